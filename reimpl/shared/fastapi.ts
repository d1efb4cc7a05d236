/**
 * FastAPI 0.92's HTTP surface on fastify: `{"detail": ...}` errors, pydantic v1 422 lists for
 * bodies and query strings, `Not Found` / `Method Not Allowed`, and a plain-text 500 as
 * uvicorn sends it. Reproduces the behaviour legacy's routes get from FastAPI for free.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { JsonSyntaxError, parsePyJson, pyJson, type PyValue } from './py-json.js';
import { pythonJsonError, type PyJsonError } from './py-json-error.js';
import { FieldError, int, validateModel, type ModelSpec, type ModelValue, type ValidationIssue, type Validator } from './pydantic-v1.js';

/** Path parameters as long as uvicorn lets a request line be (h11 reads at most 16 KiB of head). */
export const MAX_PATH_PARAM = 16 * 1024;

/**
 * The URL fastify should route, as Starlette routes it: uvicorn percent-decodes the path before
 * the routes see it, so an encoded slash separates segments there (`/cancel/a%2Fb` is no job
 * route, a 404) where fastify would hand `a/b` to the route as one parameter. Only `%2F` is
 * decoded here: every other escape means the same to both routers.
 */
export function starletteRoutedUrl(url: string): string {
  const query = url.indexOf('?');
  let path = query === -1 ? url : url.slice(0, query);
  // urllib's unquote keeps a '%' that starts no escape ('%ZZ' stays '%ZZ'), where fastify refuses the URL (FST_ERR_BAD_URL).
  if (/%(?![0-9a-f]{2})/i.test(path)) path = path.replace(/%(?![0-9a-f]{2})/gi, '%25');
  if (/%2f/i.test(path)) path = path.replace(/%2f/gi, '/');
  return path === (query === -1 ? url : url.slice(0, query)) ? url : path + (query === -1 ? '' : url.slice(query));
}

/** An `HTTPException(status_code, detail)`. */
export class HttpDetail extends Error {
  constructor(readonly status: number, readonly detail: string) {
    super(detail);
  }
}

/** A FastAPI RequestValidationError: answered 422 with pydantic's list. */
export class RequestInvalid extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super('request validation failed');
  }
}

/**
 * Sends JSON text with FastAPI's bare `application/json`. A Buffer, because fastify appends
 * `; charset=utf-8` to the content type of string payloads, a difference strict clients see.
 */
export function sendJsonText(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send(Buffer.from(text, 'utf8'));
}

/** Sends `value` rendered as FastAPI would. */
export function sendPy(reply: FastifyReply, status: number, value: PyValue): FastifyReply {
  return sendJsonText(reply, status, pyJson(value));
}

const pyIssue = (i: ValidationIssue): PyValue => ({ loc: i.loc, msg: i.msg, type: i.type, ...(i.ctx ? { ctx: i.ctx } : {}) });

/** Installs FastAPI's body parsing, error answers and not-found answer on an app or plugin scope. */
export function installFastApiSurface(app: FastifyInstance): void {
  // Bodies stay raw text: they are parsed with Python's int/float distinction by the route.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 50 * 1024 * 1024 }, (_request, body, done) => done(null, body));
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof HttpDetail) return sendPy(reply, error.status, { detail: error.detail });
    if (error instanceof RequestInvalid) return sendPy(reply, 422, { detail: error.issues.map(pyIssue) });
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 413 || status === 415) return sendPy(reply, status, { detail: (error as Error).message });
    reply.log.error({ err: error as Error }, "unhandled error");
    return reply.code(500).header('content-type', 'text/plain; charset=utf-8').send('Internal Server Error');
  });
  const routed = routePatterns(app);
  const notFound = (request: FastifyRequest, reply: FastifyReply) => {
    // A path a route matches under another method: Starlette's 405, naming the first such route's methods.
    const path = request.url.split('?')[0]!;
    const other = routed.find((route) => route.method !== 'HEAD' && route.pattern.test(path));
    if (other) return sendPy(reply.header('allow', other.method), 405, { detail: 'Method Not Allowed' });
    const redirect = slashRedirect(request.url, routed.map((route) => route.pattern));
    // Starlette's redirect_slashes: an empty 307 to the path that a route matches (any method).
    if (redirect !== undefined) return reply.code(307).header('location', `http://${request.headers.host ?? ''}${redirect}`).send();
    return sendPy(reply, 404, { detail: 'Not Found' });
  };
  app.setNotFoundHandler(notFound);
  // Starlette's parameters match one or more characters: `/properties/` is no property route, where fastify hands it an empty id.
  app.addHook('onRequest', async (request, reply) => {
    const params = request.params as Record<string, unknown> | undefined;
    if (params && Object.values(params).some((value) => value === '')) return notFound(request, reply);
    return undefined;
  });
}

/** The routes registered on the app from now on: their method and a regex of the concrete paths their path matches. */
function routePatterns(app: FastifyInstance): Array<{ method: string; pattern: RegExp }> {
  const routes: Array<{ method: string; pattern: RegExp }> = [];
  app.addHook('onRoute', (route) => {
    const source = route.url.split('/').map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
    for (const method of [route.method].flat()) routes.push({ method, pattern: new RegExp(`^${source}$`) });
  });
  return routes;
}

/**
 * Where Starlette redirects a path no route matches: the path with its trailing slashes
 * stripped (or one added) when a route matches that, the query kept; undefined otherwise.
 */
export function slashRedirect(url: string, patterns: readonly RegExp[]): string | undefined {
  const at = url.indexOf('?');
  const path = at === -1 ? url : url.slice(0, at);
  if (path === '/') return undefined;
  const other = path.endsWith('/') ? path.replace(/\/+$/, '') : `${path}/`;
  if (!patterns.some((pattern) => pattern.test(other))) return undefined;
  return other + (at === -1 ? '' : url.slice(at));
}

/** The body of a FastAPI route with one pydantic model parameter, validated or a 422. */
export function bodyModel(request: FastifyRequest, model: ModelSpec): ModelValue {
  const raw = typeof request.body === 'string' ? request.body : '';
  // Only an empty body is no body: FastAPI hands whitespace to json.loads, which refuses it.
  if (raw === '') throw new RequestInvalid([{ loc: ['body'], msg: 'field required', type: 'value_error.missing' }]);
  let parsed: PyValue;
  try {
    parsed = parsePyJson(raw);
  } catch (error) {
    const python = pythonJsonError(raw);
    throw new RequestInvalid([jsonDecodeIssue(raw, python ?? { msg: 'Expecting value', pos: error instanceof JsonSyntaxError ? [...raw.slice(0, error.position)].length : 0 })]);
  }
  // Python's json (strict) refuses raw control characters inside strings; parsePyJson does not.
  // Only a body holding one (rare) pays for the second scan.
  const strictError = /[\x00-\x1f]/.test(raw) ? pythonJsonError(raw) : undefined;
  if (strictError) throw new RequestInvalid([jsonDecodeIssue(raw, strictError)]);
  // FastAPI reads a JSON null body as no body at all.
  if (parsed === null) throw new RequestInvalid([{ loc: ['body'], msg: 'field required', type: 'value_error.missing' }]);
  const issues: ValidationIssue[] = [];
  const model_ = validateModel(model, parsed, ['body'], issues);
  if (!model_) throw new RequestInvalid(issues);
  return model_;
}

/** Python's json.JSONDecodeError as FastAPI reports it; `pos` counts code points, as Python's str does. */
function jsonDecodeIssue(doc: string, { msg, pos }: PyJsonError): ValidationIssue {
  const before = [...doc].slice(0, pos).join('');
  const lineno = before.split('\n').length;
  const colno = pos - [...before.slice(0, before.lastIndexOf('\n') + 1)].length + 1;
  return {
    loc: ['body', pos],
    msg: `${msg}: line ${lineno} column ${colno} (char ${pos})`,
    type: 'value_error.jsondecode',
    ctx: { msg, doc, pos, lineno, colno },
  };
}

export interface IntQuery {
  name: string;
  fallback: number;
  ge?: number;
  le?: number;
}

/** `Query(default, ge=, le=)` integers, validated together as FastAPI does (all issues in one 422). */
export function intQueries(query: Record<string, string | string[] | undefined>, specs: IntQuery[]): number[] {
  return queries(query, specs.map((spec) => ({ name: spec.name, fallback: spec.fallback, validator: int({ ge: spec.ge, le: spec.le }) }))) as number[];
}

export interface QuerySpec {
  name: string;
  validator: Validator;
  /** The parameter's default when the query does not name it (None: null). */
  fallback: PyValue;
}

/** Query parameters validated in declaration order, every issue in one 422, as FastAPI does. */
export function queries(query: Record<string, string | string[] | undefined>, specs: QuerySpec[]): PyValue[] {
  const issues: ValidationIssue[] = [];
  const values = specs.map((spec) => {
    const raw = lastValue(query[spec.name]);
    if (raw === undefined) return spec.fallback;
    try {
      return spec.validator(raw, [], issues);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      issues.push({ loc: ['query', spec.name], ...error.issue });
      return spec.fallback;
    }
  });
  if (issues.length) throw new RequestInvalid(issues);
  return values;
}

/** Starlette's QueryParams answers the last value of a repeated key. */
export function lastValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[value.length - 1] : value;
}
