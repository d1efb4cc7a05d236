/**
 * GET /, GET+POST /login (form, flashed message, session cookie, 302), POST /auth/login and
 * POST /auth/refresh (JWT). Reproduces legacy/terrafusion_gateway/auth_routes.py, including
 * werkzeug's redirect page and Flask's `url_for` query quoting.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rawBody, type GatewayContext } from './context.js';
import { sendJsonError, sendJsonify } from './flask-json.js';
import { resolveIdentity } from './identity.js';
import type { RbacUser } from './rbac-store.js';
import { ACCESS_TOKEN_SECONDS, mintToken, TokenRejected, verifyToken } from './tokens.js';

/** Python's html.escape(text, quote=True). */
const htmlEscape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');

/** markupsafe's escape, which werkzeug's redirect page uses. */
const markupEscape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');

/** Only same-site paths: an absolute or protocol-relative `next` would be an open redirect. */
function safeNext(target: unknown): string {
  return typeof target === 'string' && target.startsWith('/') && !target.startsWith('//') ? target : '/';
}

/** werkzeug's url_quote_plus as url_for uses it for query values. */
function werkzeugQuotePlus(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'))
    .map((byte) => {
      const ch = String.fromCharCode(byte);
      if (/[A-Za-z0-9\-._~]/.test(ch)) return ch;
      return ch === ' ' ? '+' : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/** werkzeug's iri_to_uri(safe_conversion=True): a plain ASCII location without spaces is kept as is. */
function iriToUri(location: string): string {
  if (/^[\x21-\x7e]*$/.test(location)) return location;
  return encodeURI(location);
}

/** werkzeug.utils.redirect(location): 302 with its small HTML page. */
function sendRedirect(reply: FastifyReply, location: string): FastifyReply {
  const uri = iriToUri(location);
  const body =
    '<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n' +
    `<p>You should be redirected automatically to the target URL: <a href="${markupEscape(uri)}">${markupEscape(location)}</a>. If not, click the link.\n`;
  return reply.code(302).header('location', uri).header('content-type', 'text/html; charset=utf-8').send(body);
}

const sendHtml = (reply: FastifyReply, html: string) => reply.code(200).header('content-type', 'text/html; charset=utf-8').send(html);

/** Flask's request.form: only an urlencoded body is parsed (first value of a name wins). */
function formOf(request: FastifyRequest): URLSearchParams {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const raw = rawBody(request);
  return type === 'application/x-www-form-urlencoded' && raw ? new URLSearchParams(raw.toString('utf8')) : new URLSearchParams();
}

/** Flask's get_json(silent=True): JSON only for an application/json (or +json) content type. */
function jsonBodyOf(request: FastifyRequest): unknown {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const raw = rawBody(request);
  if (!raw || !(type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json')))) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Python's truthiness of a JSON value (empty lists and objects are false too). */
const pyFalsy = (value: unknown) =>
  !value || (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && Object.keys(value as object).length === 0);

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function queryValue(request: FastifyRequest, name: string): string | undefined {
  const q = request.url.indexOf('?');
  return q < 0 ? undefined : (new URLSearchParams(request.url.slice(q + 1)).get(name) ?? undefined);
}

const userBody = (user: RbacUser) => ({ id: user.id, username: user.username, role: user.role, county_access: [...user.county_ids] });

export function registerAuthRoutes(app: FastifyInstance, context: GatewayContext): void {
  app.get('/', { config: { rule: '/' } }, async (request, reply) => {
    const { identity } = await resolveIdentity(request, request.flaskSession, context);
    const who = identity ? `Signed in as ${htmlEscape(String(identity.username))}.` : '<a href="/login">Sign in</a>';
    return sendHtml(reply, `<!doctype html><title>TerraFusion</title><h1>TerraFusion API Gateway</h1><p>${who}</p>`);
  });

  app.get('/login', { config: { rule: '/login' } }, async (request, reply) => {
    const session = request.flaskSession;
    let messages = '';
    if ('_flashes' in session.values) {
      const { _flashes: flashes, ...rest } = session.values;
      session.replace(rest);
      for (const flash of Array.isArray(flashes) ? flashes : []) {
        if (Array.isArray(flash)) messages += `<p class=error>${htmlEscape(String(flash[1]))}</p>`;
      }
    }
    const nextPath = htmlEscape(safeNext(queryValue(request, 'next')));
    return sendHtml(
      reply,
      '<!doctype html><title>Sign in - TerraFusion</title><h1>Sign in</h1>' +
        `${messages}<form method=post action=/login>` +
        `<input type=hidden name=next value="${nextPath}">` +
        '<input name=username placeholder=Username><input name=password type=password placeholder=Password>' +
        '<button type=submit>Sign in</button></form>',
    );
  });

  app.post('/login', { config: { rule: '/login' } }, async (request, reply) => {
    const form = formOf(request);
    const nextPath = safeNext(form.get('next') || queryValue(request, 'next'));
    const user = await context.rbac.authenticate(form.get('username') ?? undefined, form.get('password') ?? undefined);
    const session = request.flaskSession;
    if (!user) {
      const flashes = Array.isArray(session.values._flashes) ? session.values._flashes : [];
      session.replace({ ...session.values, _flashes: [...flashes, ['message', 'Invalid username or password']] });
      return sendRedirect(reply, `/login?next=${werkzeugQuotePlus(nextPath)}`);
    }
    session.replace({ user_id: String(user.id), username: user.username, role: user.role });
    return sendRedirect(reply, nextPath);
  });

  app.post('/auth/login', { config: { rule: '/auth/login' } }, async (request, reply) => {
    const parsed = jsonBodyOf(request);
    const body = isRecord(parsed) ? parsed : {};
    const { username, password } = body;
    if (pyFalsy(username) || pyFalsy(password)) return sendJsonError(reply, 400, 'Bad request', 'Username and password are required.');
    const user = await context.rbac.authenticate(username, password);
    if (!user) return sendJsonError(reply, 401, 'Authentication failed', 'Invalid username or password.');
    const secret = context.settings.jwtSecretKey;
    const [accessToken, refreshToken] = await Promise.all([mintToken(user, 'access', secret), mintToken(user, 'refresh', secret)]);
    return sendJsonify(reply, 200, {
      access_token: accessToken,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_SECONDS,
      user: userBody(user),
    });
  });

  app.post('/auth/refresh', { config: { rule: '/auth/refresh' } }, async (request, reply) => {
    const body = jsonBodyOf(request);
    let token = isRecord(body) ? body.refresh_token : undefined;
    // Python's `if not token`: an empty list, object or zero is no token either, so the Bearer header is read.
    if (!pythonTruthy(token)) {
      const header = request.headers.authorization ?? '';
      const space = header.indexOf(' ');
      const scheme = space < 0 ? header : header.slice(0, space);
      token = scheme.toLowerCase() === 'bearer' && space >= 0 ? header.slice(space + 1).trim() : undefined;
    }
    if (!token || typeof token !== 'string') return sendJsonError(reply, 401, 'Authentication required');
    const secret = context.settings.jwtSecretKey;
    let claims;
    try {
      claims = await verifyToken(token, secret, 'refresh');
    } catch (error) {
      if (error instanceof TokenRejected) return sendJsonError(reply, 401, error.error, error.message);
      throw error;
    }
    // Role and counties come from the current RBAC files, not the old token.
    const user = context.rbac.userById(claims.sub);
    if (!user) return sendJsonError(reply, 401, 'Invalid token', "The token's user no longer exists.");
    return sendJsonify(reply, 200, { access_token: await mintToken(user, 'access', secret), token_type: 'Bearer', expires_in: ACCESS_TOKEN_SECONDS });
  });
}

/** Python's truth of a JSON value: None, False, 0, '', [] and {} are false. */
function pythonTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}
