/**
 * Job-id correlation: where a route's correlation ids live (flags/routes.yaml `correlation:`),
 * how a pair A↔B is learnt from the two answers of a shadowed `/run`, and how a later request
 * naming A is rewritten into the shadow copy naming B. Pure functions; the pairs themselves
 * are kept by correlation-store.ts.
 */
import type { CorrelationId, Route } from '../../flags/route-catalogue.js';
import type { SideResult } from '../serving/capture.js';
import type { Side } from '../serving/decide.js';
import type { OutgoingRequest } from '../serving/forward.js';

/** One pair: the id the serving side gave the client, and the id the shadow side gave the same job. */
export interface Correlation {
  /** The id's name in the catalogue (`job_id`, `report_id`). */
  name: string;
  /** The route whose answers created the pair (a `/run`). */
  routeId: string;
  servingSide: Side;
  servingId: string;
  shadowId: string;
  /**
   * When the request that created the job reached the proxy (epoch ms): the earliest either
   * side can have stamped the job, so its timestamps are held to the window it opens.
   */
  askedAt?: number;
}

/** How a pair is written in differences and dispositions: `A↔B`, legacy first. */
export function pairLabel(correlation: Correlation): string {
  const [legacy, reimpl] = correlation.servingSide === 'legacy' ? [correlation.servingId, correlation.shadowId] : [correlation.shadowId, correlation.servingId];
  return `${legacy}↔${reimpl}`;
}

/** The pairs as the comparison engine takes them (CompareContext.correlations): legacy value → reimpl value. */
export function legacyToReimpl(correlations: readonly Correlation[]): ReadonlyMap<string, string> {
  return new Map(correlations.map((c) => (c.servingSide === 'legacy' ? [c.servingId, c.shadowId] : [c.shadowId, c.servingId])));
}

/** The pairs oriented as the proxy compares (serving answer against shadow answer): serving value → shadow value. */
export function servingToShadow(correlations: readonly Correlation[]): ReadonlyMap<string, string> {
  // Most exchanges carry none: one shared empty map, not a Map per shadowed request.
  return correlations.length === 0 ? noPairs : new Map(correlations.map((c) => [c.servingId, c.shadowId]));
}

const noPairs: ReadonlyMap<string, string> = new Map();

type Step = string | number;

/** Steps of a catalogue JSON path (`$.job_id`, `$.result.id`, `$[0].id`); wildcards are not ids and give undefined. */
function steps(path: string): Step[] | undefined {
  if (!path.startsWith('$')) return undefined;
  const out: Step[] = [];
  const pattern = /\.([A-Za-z0-9_-]+)|\[(\d+)\]/gy;
  pattern.lastIndex = 1;
  while (pattern.lastIndex < path.length) {
    const match = pattern.exec(path);
    if (!match) return undefined;
    out.push(match[1] ?? Number(match[2]));
  }
  return out;
}

/** The id at a JSON path of a JSON body, when it is a string or an integer. */
export function idAt(body: Buffer, path: string): string | undefined {
  const walk = steps(path);
  if (!walk || body.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  for (const step of walk) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[step];
  }
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return undefined;
}

/** A 2xx answer read whole: only such an answer's ids are learnt. */
function answeredWhole(side: SideResult): boolean {
  return !side.failure && !side.truncated && side.status !== undefined && side.status >= 200 && side.status < 300;
}

/**
 * Pairs a shadowed request's two answers reveal: each `response.body` id present (and
 * different) on both sides of a 2xx answer; `askedAt`, when the request reached the proxy.
 */
export function learnPairs(route: Route, serving: SideResult, shadow: SideResult, askedAt?: number): Correlation[] {
  if (!answeredWhole(serving) || !answeredWhole(shadow)) return [];
  const pairs: Correlation[] = [];
  for (const entry of route.correlation ?? []) {
    if (entry.in !== 'response.body') continue;
    const servingId = idAt(serving.body, entry.at);
    const shadowId = idAt(shadow.body, entry.at);
    if (servingId !== undefined && shadowId !== undefined && servingId !== shadowId) {
      pairs.push({ name: entry.id, routeId: route.id, servingSide: serving.side, servingId, shadowId, ...(askedAt === undefined ? {} : { askedAt }) });
    }
  }
  return pairs;
}

/** Where an id of the request is: the path segment index for `path`, decoded value in every case. */
interface Located {
  entry: CorrelationId;
  value: string;
}

function splitTarget(path: string): { bare: string; query: string } {
  const at = path.indexOf('?');
  return at === -1 ? { bare: path, query: '' } : { bare: path.slice(0, at), query: path.slice(at) };
}

function segmentIndex(route: Route, name: string): number {
  const template = route.path === '/' ? [''] : route.path.slice(1).split('/');
  return template.indexOf(`{${name}}`);
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function headerValue(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name.toLowerCase()) return headers[i + 1];
  return undefined;
}

/** The correlation ids a request names (path, query, header, JSON body), per the route's `correlation:` entries. */
export function requestIds(route: Route, request: OutgoingRequest & { body: Buffer | null }): Located[] {
  const found: Located[] = [];
  const { bare, query } = splitTarget(request.path);
  for (const entry of route.correlation ?? []) {
    let value: string | undefined;
    if (entry.in === 'path') {
      const index = segmentIndex(route, entry.at);
      const segment = index === -1 ? undefined : bare.slice(1).split('/')[index];
      value = segment === undefined ? undefined : decode(segment);
    } else if (entry.in === 'query') {
      value = new URLSearchParams(query).get(entry.at) ?? undefined;
    } else if (entry.in === 'header') {
      value = headerValue(request.headers, entry.at);
    } else if (entry.in === 'request.body') {
      value = request.body ? idAt(request.body, entry.at) : undefined;
    }
    if (value !== undefined && value !== '') found.push({ entry, value });
  }
  return found;
}

function replaceQueryParam(query: string, name: string, from: string, to: string): string {
  // Only the one parameter changes; the rest of the query stays byte for byte as the client sent it.
  return query.replace(/([?&])([^=&]*)=([^&]*)/g, (whole, lead: string, key: string, value: string) =>
    decode(key.replace(/\+/g, ' ')) === name && decode(value.replace(/\+/g, ' ')) === from ? `${lead}${key}=${encodeURIComponent(to)}` : whole,
  );
}

function withContentLength(headers: readonly string[], length: number): string[] {
  const out = [...headers];
  for (let i = 0; i < out.length; i += 2) if (out[i]!.toLowerCase() === 'content-length') out[i + 1] = String(length);
  return out;
}

/**
 * The shadow copy of `request` with every correlated id replaced by its shadow id (`lookup`
 * answers serving id → pair). Returns the pairs used; none used means the request is unchanged.
 */
export function rewriteForShadow(
  route: Route,
  request: OutgoingRequest & { body: Buffer | null },
  lookup: (servingId: string) => Correlation | undefined,
): { request: OutgoingRequest & { body: Buffer | null }; used: Correlation[] } {
  const used: Correlation[] = [];
  let { bare, query } = splitTarget(request.path);
  let headers = request.headers;
  let body = request.body;
  for (const { entry, value } of requestIds(route, request)) {
    const pair = lookup(value);
    if (!pair) continue;
    used.push(pair);
    if (entry.in === 'path') {
      const segments = bare.slice(1).split('/');
      segments[segmentIndex(route, entry.at)] = encodeURIComponent(pair.shadowId);
      bare = `/${segments.join('/')}`;
    } else if (entry.in === 'query') {
      query = replaceQueryParam(query, entry.at, value, pair.shadowId);
    } else if (entry.in === 'header') {
      headers = headers.map((item, i) => (i % 2 === 1 && headers[i - 1]!.toLowerCase() === entry.at.toLowerCase() && item === value ? pair.shadowId : item));
    } else if (entry.in === 'request.body' && body) {
      // The id's JSON string is swapped in the text, so the rest of the body keeps its bytes.
      const text = body.toString('utf8').split(JSON.stringify(value)).join(JSON.stringify(pair.shadowId));
      body = Buffer.from(text, 'utf8');
      headers = withContentLength(headers, body.length);
    }
  }
  if (used.length === 0) return { request, used };
  return { request: { ...request, path: bare + query, headers, body }, used };
}
