/**
 * The route catalogue: the services a platform is made of and every route of them
 * (flags/routes.yaml), validated at load, and the matcher that tells the proxy which route a
 * request is. Services are declared, not coded: another platform's routes are catalogued by
 * declaring its services (name, front door, upstream names) in its own routes file. The matcher is
 * precompiled into one segment tree per service and method, so a lookup walks the path's
 * segments once (static segments before parameters before a tail wildcard) without regexes.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { gateOverridesSchema, type GateOverrides } from '../src/config/schema.js';
import { CutoverError } from '../src/errors.js';
import { compareRulesSchema, type PathRule } from '../parity/compare/rules.js';

/** A service's name as `services:` in the routes file declares it (`sync`, `gateway`...). */
export type Service = string;

/** One service of the platform: a front door of the proxy, and the upstreams its routes reach on each side. */
export interface ServiceDeclaration {
  name: Service;
  /** Default port of the service's front door (config.proxy.doors.<name> overrides it); absent, the config must give one. */
  door?: number;
  /**
   * Upstream names of the service; the first, its own, serves every route that names none
   * (`upstream:` of a route must be one of these). Each is a URL per side in the config
   * (proxy.upstreams.<side>.<name>, or CUTOVER_UPSTREAM_<SIDE>_<NAME>).
   */
  upstreams: readonly string[];
}

/**
 * Where a correlation id (a job id...) of a route lives, so later tools can pair the legacy
 * and reimplementation ids of the same job. `at` is a JSON path for bodies (`$.job_id`), the
 * template parameter name for `path`, the parameter or header name for `query` and `header`.
 */
export interface CorrelationId {
  id: string;
  in: 'path' | 'query' | 'header' | 'request.body' | 'response.body';
  at: string;
  /**
   * The route that creates the record this id names, when no route of the same service does
   * (the narrator analyses a job sync's run made): fuzz makes that record first on each side.
   * It must name a route whose answer carries the same id (a response-body correlation).
   */
  madeBy?: string;
}

export interface Route {
  /** Stable id, `<service>.<area>[.<action>]`, e.g. `sync.gis-export.run`; flags are keyed on it. */
  id: string;
  service: Service;
  /** Upper-case HTTP method, or `*` for a passthrough that takes any method. */
  method: string;
  /** Template: `{name}` is one segment, `{name*}` (last only) one or more; e.g. `/plugins/v1/gis-export/status/{job_id}`. */
  path: string;
  /** Who decides this route's flag; every flag has an owner so none lives forever. */
  owner: string;
  /** True when the route changes data: its shadow copy must land in an isolated shadow schema. */
  writes: boolean;
  /** The reimplementation upstream when not the service's own (e.g. `gisExport`); one of the service's declared upstreams. */
  upstream?: string;
  correlation?: readonly CorrelationId[];
  /**
   * Job routes: how a read racing the other side's job (legacy RUNNING, reimpl COMPLETED) is
   * settled (proxy/stateful/eventual-state.ts). With `poll`, both sides are read again until terminal,
   * within the deadline; without, a racing observation is `ignored` with rule `eventual-state`.
   */
  eventual?: { poll?: { deadlineMs: number; intervalMs: number } };
  /**
   * Bytes of each side's answer body kept for the comparison on this route, instead of
   * proxy.shadow.maxCompareBodyBytes: exported files are larger than any JSON answer, and a
   * body past the bound is not compared (`compare.max-body`). Memory: up to twice this per
   * shadow copy in flight on the route.
   */
  captureBytes?: number;
  /**
   * Whether a request the reimplementation fails (connection error, timeout before headers,
   * 5xx) while serving it (canary, reimpl) is answered by legacy instead (proxy/serving/fallback.ts).
   * Default: on for routes that do not write. A writing route falls back only when idempotent.
   */
  fallback?: boolean;
  /**
   * Share of the route's requests that get a shadow copy (0 < sample ≤ 1; all when absent),
   * decided per request from its id (proxy/serving/sampling.ts), the same on every instance.
   * The rest are counted (cutover_proxy_shadow_sampled_out_total, and in the report). A route
   * whose job ids are correlated is never sampled: a read of a job whose create got no copy has
   * no shadow job to read.
   */
  sample?: number;
  /** A writing route whose repeat is harmless (same request, same effect): it may then fall back. */
  idempotent?: boolean;
  /** This route's readiness gate thresholds where they differ from config.gate.thresholds (`cutover gate`, gate/). */
  gate?: GateOverrides;
  /**
   * The query parameters the route reads, by name (what legacy's handler declares): fuzz and
   * calibrate generate values inside and outside these bounds (parity/runner/fuzz-catalogue.ts).
   */
  query?: Readonly<Record<string, QueryParameter>>;
  compare: {
    /**
     * JSON paths left out of the body comparison: `$` root, `.key`, `[*]` every array item,
     * `.*` every key, `[n]` one index. `$` alone ignores the whole body (e.g. Prometheus text).
     */
    ignore: string[];
    /** Response headers compared, lower-case. */
    headers: string[];
    /** Per-path comparators (number, timestamp, uuid, set, geometry, text, file...): parity/compare/rules.ts. */
    paths?: Readonly<Record<string, PathRule>>;
  };
}

/**
 * One query parameter: `county` (a county id of the platform), `text`, `bool`, `timestamp`
 * (naive ISO), `{ int: { min, max, beyond } }` (bounds as legacy validates them; absent = unbounded;
 * `beyond`: the largest value generated past them, for a count legacy really loops over) or
 * `{ enum: [...] }` (the values legacy filters or accepts by; case-sensitive).
 */
export type QueryParameter = 'county' | 'text' | 'bool' | 'timestamp' | { int: { min?: number; max?: number; beyond?: number } } | { enum: readonly string[] };

export interface RouteCatalogue {
  /** The declared services, in file order; inferred from the routes when the file declares none. */
  services: readonly ServiceDeclaration[];
  routes: readonly Route[];
  /** The route a request is, or undefined (unknown traffic: forwarded to legacy and counted). `path` may carry a query string. */
  match(service: string, method: string, path: string): Route | undefined;
  /** The route with this id, or undefined. */
  byId(id: string): Route | undefined;
}

export const defaultRoutesFile = join(dirname(fileURLToPath(import.meta.url)), 'routes.yaml');

const methodSchema = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', '*']);

const serviceName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a lower-case name like sync or gis-export');
const upstreamName = z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'a name like sync or gisExport');

const serviceSchema = z.strictObject({
  name: serviceName,
  door: z.number().int().min(0).max(65535).optional(),
  upstreams: z.array(upstreamName).min(1),
});

const queryParameterSchema = z.union([
  z.enum(['county', 'text', 'bool', 'timestamp']),
  z.strictObject({ int: z.strictObject({ min: z.number().int().optional(), max: z.number().int().optional(), beyond: z.number().int().optional() }) }),
  z.strictObject({ enum: z.array(z.string()).min(1) }),
]);

const routeSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/, 'an id like sync.gis-export.run'),
    service: serviceName,
    method: methodSchema,
    path: z.string().regex(/^(\/([A-Za-z0-9._~-]+|\{[a-z_][a-z0-9_]*\*?\}))+$|^\/$/, 'a path template like /status/{job_id}'),
    owner: z.string().min(1),
    writes: z.boolean(),
    upstream: z.string().min(1).optional(),
    correlation: z
      .array(z.strictObject({ id: z.string().min(1), in: z.enum(['path', 'query', 'header', 'request.body', 'response.body']), at: z.string().min(1), madeBy: z.string().min(1).optional() }))
      .optional(),
    eventual: z
      .strictObject({ poll: z.strictObject({ deadlineMs: z.number().int().positive().max(600_000), intervalMs: z.number().int().min(10) }).optional() })
      .optional(),
    captureBytes: z.number().int().positive().max(256 * 1024 * 1024).optional(),
    fallback: z.boolean().optional(),
    sample: z.number().gt(0, 'sample is a share of requests above 0').max(1, 'sample is a share of requests, at most 1').optional(),
    idempotent: z.boolean().optional(),
    gate: gateOverridesSchema.optional(),
    query: z.record(z.string().regex(/^[a-z_][a-z0-9_]*$/), queryParameterSchema).optional(),
    compare: compareRulesSchema,
  })
  .strict()
  .superRefine((route, context) => {
    if (!route.id.startsWith(`${route.service}.`)) context.addIssue({ code: 'custom', path: ['id'], message: `must start with its service '${route.service}.'` });
    if (route.fallback === true && route.writes && route.idempotent !== true) {
      context.addIssue({ code: 'custom', path: ['fallback'], message: 'a writing route falls back only when it is idempotent (idempotent: true): a fallback must never double a write' });
    }
    if (route.sample !== undefined && route.sample < 1 && (route.correlation?.length ?? 0) > 0) {
      context.addIssue({ code: 'custom', path: ['sample'], message: 'a route with correlated job ids is not sampled: reads of a job whose create got no shadow copy would find no shadow job' });
    }
    const tail = route.path.indexOf('*}');
    if (tail !== -1 && tail !== route.path.length - 2) context.addIssue({ code: 'custom', path: ['path'], message: 'a {name*} tail may only be the last segment' });
    for (const entry of route.correlation ?? []) {
      if (entry.in === 'path' && !route.path.includes(`{${entry.at}}`)) {
        context.addIssue({ code: 'custom', path: ['correlation'], message: `path parameter {${entry.at}} is not in ${route.path}` });
      }
    }
  });

// Root keys starting with `x-` only hold YAML anchors (shared compare rules) and are not read.
const fileSchema = z
  .object({ version: z.literal(1), services: z.array(serviceSchema).min(1).optional(), routes: z.array(routeSchema).min(1) })
  .catchall(z.unknown())
  .superRefine((file, context) => {
    for (const key of Object.keys(file)) {
      if (!['version', 'services', 'routes'].includes(key) && !key.startsWith('x-')) {
        context.addIssue({ code: 'custom', path: [key], message: 'unknown key (only version, services, routes and x-* anchors)' });
      }
    }
    file.routes.forEach((route, index) => {
      (route.correlation ?? []).forEach((entry, at) => {
        if (entry.madeBy === undefined) return;
        const maker = file.routes.find((other) => other.id === entry.madeBy);
        if (!maker?.correlation?.some((made) => made.in === 'response.body' && made.id === entry.id)) {
          context.addIssue({ code: 'custom', path: ['routes', index, 'correlation', at, 'madeBy'], message: `madeBy ${entry.madeBy} names no route whose answer carries ${entry.id} (a response.body correlation)` });
        }
      });
    });
    if (!file.services) return;
    const declared = new Map(file.services.map((service) => [service.name, service]));
    file.services.forEach((service, index) => {
      if (file.services!.findIndex((other) => other.name === service.name) !== index) {
        context.addIssue({ code: 'custom', path: ['services', index, 'name'], message: `service ${service.name} is declared twice` });
      }
    });
    file.routes.forEach((route, index) => {
      const service = declared.get(route.service);
      if (!service) {
        context.addIssue({ code: 'custom', path: ['routes', index, 'service'], message: `service ${route.service} is not declared under services` });
      } else if (route.upstream !== undefined && !service.upstreams.includes(route.upstream)) {
        // A typo here once fell back silently to the service's own upstream.
        context.addIssue({ code: 'custom', path: ['routes', index, 'upstream'], message: `upstream ${route.upstream} names none of service ${route.service}'s upstreams (${service.upstreams.join(', ')})` });
      }
    });
  });

/** Without a `services:` section (small inline catalogues), each service the routes name, with its own upstream and those its routes name. */
function inferServices(routes: readonly Route[]): ServiceDeclaration[] {
  const upstreams = new Map<string, Set<string>>();
  for (const route of routes) {
    const names = upstreams.get(route.service) ?? new Set([route.service]);
    if (route.upstream) names.add(route.upstream);
    upstreams.set(route.service, names);
  }
  return [...upstreams].map(([name, names]) => ({ name, upstreams: [...names] }));
}

function invalid(file: string, message: string): CutoverError {
  return new CutoverError('CUTOVER_ERR_ROUTES_INVALID', `route catalogue ${file}: ${message}`);
}

/** Reads, validates and compiles a catalogue; a bad file throws CUTOVER_ERR_ROUTES_INVALID naming every problem. */
export function loadRouteCatalogue(file: string = defaultRoutesFile): RouteCatalogue {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw invalid(file, `cannot read: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw invalid(file, `not valid YAML: ${(error as Error).message}`);
  }
  return parseRouteCatalogue(raw, file);
}

/** Validates an already-parsed catalogue document (the YAML's object form). */
export function parseRouteCatalogue(raw: unknown, origin = '(inline)'): RouteCatalogue {
  const result = fileSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${describePath(raw, issue.path)}: ${issue.message}`);
    throw invalid(origin, problems.join('; '));
  }
  const routes = result.data.routes as Route[];
  const seenIds = new Set<string>();
  const seenShapes = new Map<string, string>();
  for (const route of routes) {
    if (seenIds.has(route.id)) throw invalid(origin, `duplicate route id ${route.id}`);
    seenIds.add(route.id);
    const shape = `${route.service} ${route.method} ${route.path.replace(/\{[^}]*?(\*?)\}/g, '{$1}')}`;
    const other = seenShapes.get(shape);
    if (other) throw invalid(origin, `routes ${other} and ${route.id} match the same requests (${shape})`);
    seenShapes.set(shape, route.id);
  }
  const declared = (result.data.services as ServiceDeclaration[] | undefined) ?? inferServices(routes);
  return compileCatalogue(Object.freeze(declared.map((service) => Object.freeze({ ...service, upstreams: Object.freeze([...service.upstreams]) }))), routes);
}

function describePath(raw: unknown, path: readonly PropertyKey[]): string {
  // Name the route by its id when there is one: "routes[3] (sync.x).method" reads better than an index.
  if (path[0] === 'routes' && typeof path[1] === 'number') {
    const entry = (raw as { routes?: unknown[] })?.routes?.[path[1]] as { id?: unknown } | undefined;
    const id = typeof entry?.id === 'string' ? ` (${entry.id})` : '';
    return [`routes[${path[1]}]${id}`, ...path.slice(2).map(String)].join('.');
  }
  return path.map(String).join('.') || '(root)';
}

interface Node {
  statics: Map<string, Node>;
  param?: Node;
  tail?: Route;
  route?: Route;
}

const newNode = (): Node => ({ statics: new Map() });

function insert(root: Node, route: Route): void {
  let node = root;
  for (const segment of splitPath(route.path)) {
    if (segment.startsWith('{') && segment.endsWith('*}')) {
      node.tail = route;
      return;
    }
    if (segment.startsWith('{')) {
      node = node.param ??= newNode();
    } else {
      let next = node.statics.get(segment);
      if (!next) node.statics.set(segment, (next = newNode()));
      node = next;
    }
  }
  node.route = route;
}

function splitPath(path: string): string[] {
  return path === '/' ? [''] : path.slice(1).split('/');
}

function lookup(node: Node, segments: readonly string[], index: number): Route | undefined {
  if (index === segments.length) return node.route;
  const segment = segments[index]!;
  const exact = node.statics.get(segment);
  if (exact) {
    const found = lookup(exact, segments, index + 1);
    if (found) return found;
  }
  if (node.param && segment !== '') {
    const found = lookup(node.param, segments, index + 1);
    if (found) return found;
  }
  return node.tail;
}

function compileCatalogue(services: readonly ServiceDeclaration[], routes: readonly Route[]): RouteCatalogue {
  const trees = new Map<string, Node>();
  for (const route of routes) {
    const key = `${route.service} ${route.method}`;
    let root = trees.get(key);
    if (!root) trees.set(key, (root = newNode()));
    insert(root, route);
  }
  const byId = new Map(routes.map((route) => [route.id, route]));
  Object.freeze(routes);
  return {
    services,
    routes,
    byId: (id) => byId.get(id),
    match(service, method, path) {
      const query = path.indexOf('?');
      const bare = query === -1 ? path : path.slice(0, query);
      if (!bare.startsWith('/')) return undefined;
      const segments = splitPath(bare);
      const upper = method.toUpperCase();
      // HEAD is answered by the GET route, as the legacy frameworks do.
      const methods = upper === 'HEAD' ? ['HEAD', 'GET', '*'] : [upper, '*'];
      for (const candidate of methods) {
        const root = trees.get(`${service} ${candidate}`);
        const found = root && lookup(root, segments, 0);
        if (found) return found;
      }
      return undefined;
    },
  };
}
