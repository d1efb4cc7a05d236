/**
 * The admin HTTP API of the proxy (config.proxy.admin, :8009): read and change the route
 * flags, the kill switch and the audit log, see the flag store's health, and scrape the
 * proxy's metrics. Everything but /health, /livez, /readyz and /metrics needs
 * `Authorization: Bearer <token>`; those are open because probes and scrapers carry no token,
 * and they change nothing. Tokens are named (proxy.adminTokens): a change is recorded as the
 * name of the token that made it, never as anything the request body says. The web console
 * (console/, served at / when given) is a client of this same API: it signs in with a token
 * into a session cookie (admin-session.ts), and every change it makes carries the session's
 * CSRF token and an Origin of this server.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import type { CutoverConfig } from '../src/config/schema.js';
import { configSecrets, refuseUnsafeSecrets } from '../src/config/secrets.js';
import { CutoverError, isCutoverError } from '../src/errors.js';
import { flagModes, type FlagSource } from './flag.js';
import { flagRows } from './flag-listing.js';
import { createCredentialFailures } from './credential-failures.js';
import { createSessionKeys, csrfHeader, originIsSelf, sessionCookie, sessionCookieOf, type AdminSession } from './admin-session.js';
import type { FlagStore } from './flag-store.js';
import type { LiveFlagSource, LiveFlagSourceStatus } from './live-flag-source.js';
import { setGuarded, type PromotionGuard } from './promotion-guard.js';
import { loadRouteCatalogue, type RouteCatalogue } from './route-catalogue.js';

export interface AdminServerOptions {
  config: CutoverConfig;
  flagStore: FlagStore;
  /** What the proxy decides with; its state is the flag store's health as the proxy sees it. */
  flagSource: FlagSource & { status?: () => LiveFlagSourceStatus; onChange?: LiveFlagSource['onChange'] };
  /** The proxy's metrics, served on /metrics. */
  metricsRegistry: Registry;
  catalogue?: RouteCatalogue;
  /** Extra facts for /health (the proxy's own), merged into its body. */
  health?: () => Record<string, unknown>;
  /** Puts promotions (canary, reimpl, retired) to the readiness gate first; `force` with a reason overrides it, audited. */
  promotionGuard?: PromotionGuard;
  /** Readiness for /readyz: the doors listen, flags loaded (or deliberately stale), not draining. Always ready when absent. */
  ready?: () => boolean;
  /** The web console (console/console-routes.ts): its page, assets and views, registered on this server. */
  console?: AdminConsole;
}

/** What the web console adds to the admin server: routes of its own, some open (the page and its assets). */
export interface AdminConsole {
  /** Route URLs (as registered) anyone may fetch: the page and its assets, which hold no data. */
  openUrls: readonly string[];
  register(app: FastifyInstance, context: { actorOf(request: FastifyRequest): string }): void;
}

export interface AdminServer {
  app: FastifyInstance;
  /**
   * A bearer token the API accepts: config.proxy.adminToken (or the first of proxy.adminTokens),
   * or one named `admin` generated here when the config has none (print it once).
   */
  adminToken: string;
  /** Whether the token was generated because the config had none. */
  generatedToken: boolean;
  /** Listens on config.proxy.admin; resolves with the bound address (port 0 picks a free one). */
  listen(): Promise<{ host: string; port: number; url: string }>;
  close(): Promise<void>;
}

// Hashing both sides first gives equal-length buffers, so timingSafeEqual never leaks the length.
const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

const flagChangeBody = z.object({
  mode: z.enum(flagModes as [string, ...string[]]),
  percent: z.number().int().min(0).max(100).optional(),
  reason: z.string().optional(),
  force: z.boolean().optional(),
});
const killSwitchBody = z.object({ engaged: z.boolean(), reason: z.string().optional() });
const signInBody = z.object({ token: z.string() });
const historyQuery = z.object({ route: z.string().min(1).optional(), limit: z.coerce.number().int().min(1).max(10_000).optional() });

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  // A body that names its own actor would forge the audit log; say so rather than drop it silently.
  if (typeof value === 'object' && value !== null && 'actor' in value) {
    throw new CutoverError('CUTOVER_ERR_FLAG_INVALID', `invalid ${what}: the actor is the name of the admin token used, not a field of the body; remove "actor"`);
  }
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || what}: ${issue.message}`).join('; ');
  throw new CutoverError('CUTOVER_ERR_FLAG_INVALID', `invalid ${what}: ${problems}`);
}

export function createAdminServer(options: AdminServerOptions): AdminServer {
  const { config, flagStore, flagSource, metricsRegistry } = options;
  const catalogue = options.catalogue ?? loadRouteCatalogue();
  const secrets = configSecrets(config);
  refuseUnsafeSecrets('the admin API', secrets);
  const named = { ...secrets.adminTokens };
  const generatedToken = Object.keys(named).length === 0;
  if (generatedToken) named.admin = randomBytes(24).toString('base64url');
  const tokens = Object.entries(named).map(([name, token]) => ({ name, token }));
  const adminToken = named.admin ?? tokens[0]!.token;
  const app = Fastify({ logger: false });

  // Every token is compared, so the time taken does not say which one (or whether any) matched.
  const holderOf = (presented: string): string | undefined => {
    let holder: string | undefined;
    for (const { name, token } of tokens) if (tokenMatches(presented, token) && holder === undefined) holder = name;
    return holder;
  };
  const actors = new WeakMap<FastifyRequest, string>();
  const actorOf = (request: FastifyRequest) => actors.get(request)!;

  app.setErrorHandler((error: unknown, _request, reply: FastifyReply) => {
    if (isCutoverError(error)) return reply.code(error.status).send({ error: error.code, message: error.message, hint: error.hint });
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    return reply.code(status).send({ error: status < 500 ? 'CUTOVER_ERR_USAGE' : 'internal', message: (error as Error).message });
  });

  const sessions = createSessionKeys(config.auth.sessionSecretKey, named, config.proxy.consoleSessionTtlMs);
  const consoleSessions = new WeakMap<FastifyRequest, AdminSession>();
  const refuse = (reply: FastifyReply, error: CutoverError) => reply.code(error.status).send({ error: error.code, message: error.message, hint: error.hint });
  const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);
  // Behind a TLS-terminating balancer the cookie is marked Secure; on plain loopback HTTP it cannot be.
  const secureRequest = (request: FastifyRequest) => request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';

  const credentialFailures = createCredentialFailures(config.proxy.adminCredentialFailures);
  const refusedCredentials =
    (metricsRegistry.getSingleMetric('cutover_admin_credentials_refused_total') as Counter<'reason'> | undefined) ??
    new Counter({ name: 'cutover_admin_credentials_refused_total', help: 'Admin credentials refused: wrong (a wrong token or sign-in) or rate-limited (the address had too many wrong ones)', labelNames: ['reason'], registers: [metricsRegistry] });
  /** Refuses an address that presented too many wrong tokens, before its new one is even compared; true when it did. */
  const rateLimited = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const waitMs = credentialFailures.retryAfterMs(request.ip);
    if (waitMs <= 0) return false;
    refusedCredentials.inc({ reason: 'rate-limited' });
    const seconds = Math.ceil(waitMs / 1000);
    refuse(reply.header('retry-after', String(seconds)), new CutoverError('CUTOVER_ERR_ADMIN_RATE_LIMITED', `too many wrong admin tokens from ${request.ip}; try again in ${seconds} s`));
    return true;
  };
  const wrongCredential = (request: FastifyRequest) => {
    credentialFailures.failed(request.ip);
    refusedCredentials.inc({ reason: 'wrong' });
  };

  const open = new Set(['/health', '/livez', '/readyz', '/metrics', '/console/sign-in', ...(options.console?.openUrls ?? [])]);
  app.addHook('onRequest', async (request, reply) => {
    if (open.has(request.routeOptions.url ?? '')) return;
    const header = request.headers.authorization;
    if (header !== undefined) {
      // A bearer token is not ambient (a page of another site cannot attach it), so it needs no CSRF token.
      const presented = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
      if (presented && rateLimited(request, reply)) return;
      const holder = presented ? holderOf(presented) : undefined;
      if (holder !== undefined) return void actors.set(request, holder);
      if (presented) wrongCredential(request);
      const error = new CutoverError('CUTOVER_ERR_ADMIN_UNAUTHORIZED', presented ? 'wrong admin token' : 'the admin API needs Authorization: Bearer <token>');
      return refuse(reply.header('www-authenticate', 'Bearer realm="cutover-admin"'), error);
    }
    const cookie = sessionCookieOf(request.headers.cookie);
    const session = cookie === undefined ? undefined : sessions.verify(cookie);
    if (!session) {
      const error = new CutoverError('CUTOVER_ERR_ADMIN_UNAUTHORIZED', cookie === undefined ? 'the admin API needs Authorization: Bearer <token>, or a console session' : 'the console session expired or is not valid; sign in again');
      return refuse(reply.header('www-authenticate', 'Bearer realm="cutover-admin"'), error);
    }
    if (!safeMethods.has(request.method)) {
      // The cookie rides along with any request the browser makes, so a change must prove it comes from a console page.
      if (!originIsSelf(request.headers.origin, request.headers.host)) {
        return refuse(reply, new CutoverError('CUTOVER_ERR_CSRF_REJECTED', `a console change from origin '${request.headers.origin ?? '(none)'}' was refused: only pages of this admin server may make changes`));
      }
      const presented = request.headers[csrfHeader];
      if (typeof presented !== 'string' || !sessions.csrfMatches(session, presented)) {
        return refuse(reply, new CutoverError('CUTOVER_ERR_CSRF_REJECTED', `a console change without the session's CSRF token (${csrfHeader}) was refused`));
      }
    }
    actors.set(request, session.actor);
    consoleSessions.set(request, session);
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  // The console's sign-in: a token in, a session cookie out; the token is never echoed nor kept in the cookie.
  app.post('/console/sign-in', async (request, reply) => {
    if (!originIsSelf(request.headers.origin, request.headers.host)) {
      return refuse(reply, new CutoverError('CUTOVER_ERR_CSRF_REJECTED', `a sign-in from origin '${request.headers.origin ?? '(none)'}' was refused: sign in on the console page of this admin server`));
    }
    if (rateLimited(request, reply)) return reply;
    const body = signInBody.safeParse(request.body ?? {});
    const holder = body.success && body.data.token !== '' ? holderOf(body.data.token) : undefined;
    if (holder === undefined) {
      wrongCredential(request);
      return refuse(reply, new CutoverError('CUTOVER_ERR_CONSOLE_SIGN_IN_FAILED', 'that is not an admin token of this proxy; nothing was set'));
    }
    const { session, cookieValue } = sessions.open(holder);
    reply.header('set-cookie', sessionCookie(cookieValue, Math.floor(config.proxy.consoleSessionTtlMs / 1000), secureRequest(request)));
    return { actor: session.actor, expiresAt: new Date(session.expiresAt).toISOString(), csrf: sessions.csrfFor(session) };
  });

  // Who the console is signed in as, and the CSRF token its changes must carry (read by the page's script, never from the cookie).
  app.get('/console/session', async (request) => {
    const session = consoleSessions.get(request);
    if (!session) return { actor: actorOf(request), expiresAt: null, csrf: null };
    return { actor: session.actor, expiresAt: new Date(session.expiresAt).toISOString(), csrf: sessions.csrfFor(session) };
  });

  app.delete('/console/session', async (request, reply) => {
    reply.header('set-cookie', sessionCookie('', 0, secureRequest(request)));
    return { signedOut: actorOf(request) };
  });

  const sourceStatus = () => flagSource.status?.() ?? { state: flagSource.current().state, loadedAt: flagSource.current().loadedAt };

  app.get('/health', async (_request, reply) => {
    const flags = sourceStatus();
    // Stale flags still serve traffic, so the proxy is up but degraded; unavailable means all legacy.
    const status = flags.state === 'live' ? 'ok' : 'degraded';
    return reply.send({ status, flagStore: flags, killSwitch: flagSource.current().killSwitch, ...options.health?.() });
  });

  // Liveness: the process answers. Readiness: it should get traffic (an orchestrator stops sending when it says 503).
  app.get('/livez', async (_request, reply) => reply.send({ status: 'alive' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = options.ready?.() ?? true;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', flagStore: sourceStatus().state });
  });

  app.get('/metrics', async (_request, reply) => reply.header('content-type', metricsRegistry.contentType).send(await metricsRegistry.metrics()));

  app.get('/flags', async () => {
    const [stored, snapshot] = await Promise.all([flagStore.list(), flagStore.snapshot()]);
    return { killSwitch: snapshot.killSwitch, flagSource: sourceStatus().state, routes: flagRows(catalogue, stored) };
  });

  app.get<{ Params: { routeId: string } }>('/flags/:routeId', async (request) => {
    const route = catalogue.byId(request.params.routeId);
    if (!route) throw new CutoverError('CUTOVER_ERR_FLAG_ROUTE_UNKNOWN', `no route '${request.params.routeId}'`);
    const stored = (await flagStore.list()).filter((flag) => flag.routeId === route.id);
    return flagRows({ ...catalogue, routes: [route] }, stored)[0];
  });

  // The path names a route id or a glob (`sync.gis-export.*`); the body says what to set and why.
  app.put<{ Params: { pattern: string } }>('/flags/:pattern', async (request) => {
    const body = parse(flagChangeBody, request.body, 'flag change');
    const change = {
      pattern: request.params.pattern,
      mode: body.mode as (typeof flagModes)[number],
      percent: body.percent,
      force: body.force,
      reason: body.reason ?? '',
      actor: actorOf(request),
    };
    if (!options.promotionGuard) return { changed: await flagStore.set(change), forced: [] };
    return setGuarded(flagStore, catalogue.routes, options.promotionGuard, change);
  });

  app.get('/kill-switch', async () => ({ engaged: (await flagStore.snapshot()).killSwitch }));

  app.put('/kill-switch', async (request) => {
    const body = parse(killSwitchBody, request.body, 'kill switch change');
    const moved = await flagStore.setKillSwitch(body.engaged, { reason: body.reason ?? '', actor: actorOf(request) });
    return { engaged: body.engaged, changed: moved };
  });

  app.get('/history', async (request) => {
    const query = parse(historyQuery, request.query, 'history query');
    return { entries: await flagStore.history({ routeId: query.route, limit: query.limit ?? 100 }) };
  });

  options.console?.register(app, { actorOf });

  return {
    app,
    adminToken,
    generatedToken,
    async listen() {
      await app.listen({ host: config.proxy.admin.host, port: config.proxy.admin.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.proxy.admin.port;
      return { host: config.proxy.admin.host, port, url: `http://${config.proxy.admin.host}:${port}` };
    },
    close: () => app.close(),
  };
}
