/**
 * Fuzz plans built from the route catalogue (flags/routes.yaml), so that a newly catalogued
 * route is fuzzed and calibrated without code. A route's plan draws, from what the catalogue
 * says of it:
 * - path parameters by name: `county_id` and `property_id` over the seeded counties and their
 *   parcels; an id the route correlates (`correlation: in: path`) as the record a setup creates
 *   first on each side, with the route that creates it found in the catalogue (same service, a
 *   response-body correlation of the same id, the longest shared path), or as ids naming
 *   nothing (uuids, any script, long, percent-encoded); a `{path*}` tail over the other
 *   service's read paths; each also raw (encoded characters, dot segments);
 * - an id the route reads from its body (`correlation: in: request.body, madeBy:`): the record
 *   the catalogue's `madeBy` route makes first on each side, or an id naming nothing;
 * - query parameters from the route's `query:` declaration (bounds, enums, counties,
 *   timestamps, booleans): values inside, on and past the bounds, of the wrong type, unicode,
 *   encoded, empty, repeated, and an undeclared one now and then;
 * - a body: the body generators of fuzz-arbitraries.ts for the route or the sync route it
 *   passes through to (`/api/v1/x/...` → `/plugins/v1/x/...`, the doubled market-analysis
 *   mount → `/plugins/market-analysis/...`), else generic JSON objects and broken bodies;
 * - for a gateway route, a real login of each demo user (their roles and permissions differ),
 *   a forged token, or none.
 */
import fc from 'fast-check';
import type { QueryParameter, Route, RouteCatalogue } from '../../flags/route-catalogue.js';
import { fuzzableRoutes, fuzzCases, toRequest, type FuzzableRoute, type FuzzCase, type InputSpace } from './fuzz-arbitraries.js';
import type { RunRequest } from './fuzz-exchange.js';

export interface RoutePlan {
  route: Route;
  cases: fc.Arbitrary<FuzzCase>;
  request(fuzzCase: FuzzCase): RunRequest;
  /** What the plan draws from, for the report: `body of sync.gis-export.run`, `query limit`, `path job_id (setup sync.gis-export.run)`. */
  inputs: readonly string[];
}

export interface PlanOptions {
  invalid?: boolean;
  /** Users the gateway routes log in as (default: the demo users). */
  users?: readonly string[];
}

const templateParameter = /\{([a-z_]+)(\*?)\}/g;

function parametersOf(route: Route): Array<{ name: string; tail: boolean }> {
  return [...route.path.matchAll(templateParameter)].map((match) => ({ name: match[1]!, tail: match[2] === '*' }));
}

function commonPrefix(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  let n = 0;
  while (n < left.length && n < right.length && left[n] === right[n] && !left[n]!.startsWith('{')) n += 1;
  return n;
}

/**
 * The routes that create the records a route acts on or lists: same service, a response-body
 * correlation of the same id (any id, for a list), the longest shared path first; all of those
 * that share it as much (reporting's /run and /reports make rows of one table).
 */
export function creatorsOf(route: Route, catalogue: RouteCatalogue, id?: string): Route[] {
  const candidates = catalogue.routes.filter((other) => other.id !== route.id && other.service === route.service && other.method === 'POST'
    && other.correlation?.some((entry) => entry.in === 'response.body' && (id === undefined || entry.id === id)));
  const scored = candidates.map((other) => ({ other, score: commonPrefix(route.path, other.path) })).filter((entry) => entry.score > 1);
  const best = Math.max(0, ...scored.map((entry) => entry.score));
  return scored.filter((entry) => entry.score === best).map((entry) => entry.other);
}

/** The generator-backed sync route whose body a route takes: itself, or the sync route it passes through to. */
export function bodyRouteOf(route: Route, catalogue: RouteCatalogue): FuzzableRoute | undefined {
  const normalise = (path: string) => path.replace(/\{[a-z_]+\}/g, '{}');
  const mapped = normalise(route.path.replace(/^\/api\/v1\//, '/plugins/v1/'));
  const matches = fuzzableRoutes
    .map((id) => catalogue.byId(id))
    .filter((candidate): candidate is Route => candidate !== undefined && candidate.method === route.method)
    .filter((candidate) => mapped === normalise(candidate.path) || mapped.endsWith(normalise(candidate.path)));
  // The longest path that matches is the most specific (…/plugins/market-analysis/run over …/run).
  matches.sort((a, b) => b.path.length - a.path.length);
  return matches[0]?.id as FuzzableRoute | undefined;
}

const unicode = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 });
const encodedTexts = fc.constantFrom('%2F', '%00', '..', '%2e%2e', '%ZZ', '%', 'a%20b', '+', '%C3%A9', '%F0%9F%8F%A0', ';x=1', 'a/b');
const unknownIds = fc.oneof(
  fc.uuid(),
  unicode,
  fc.integer({ min: 37, max: 300 }).map((length) => 'j'.repeat(length)),
  fc.constantFrom('0', '-1', '00000000-0000-0000-0000-000000000000', 'null', 'undefined', ' '),
);

/** Values of one path parameter: what it names on the platform, and what names nothing. */
function pathValues(name: string, space: InputSpace): fc.Arbitrary<string> {
  const counties = space.counties.map((county) => county.countyId);
  if (name === 'county_id') {
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...counties) },
      { weight: 1, arbitrary: fc.constantFrom(...counties.map((id) => id.toUpperCase()), 'nowhere_wa', 'benton', 'x'.repeat(300)) },
      { weight: 1, arbitrary: unicode },
    );
  }
  if (name === 'property_id') {
    const ids = space.counties.flatMap((county) => county.propertyIds);
    return fc.oneof({ weight: 4, arbitrary: ids.length > 0 ? fc.constantFrom(...ids) : unknownIds }, { weight: 2, arbitrary: unknownIds });
  }
  return fc.oneof(unknownIds, fc.constantFrom(...counties));
}

/** Tails of a passthrough (`/api/{path*}`): the other service's read paths, made concrete, and paths no route names. */
function tailValues(route: Route, catalogue: RouteCatalogue, space: InputSpace): fc.Arbitrary<string> {
  const reads = catalogue.routes
    .filter((other) => other.service !== route.service && other.method === 'GET' && !other.path.includes('*'))
    .map((other) => other.path.replace(/^\//, ''));
  const concrete = (template: string) => {
    const names = [...template.matchAll(templateParameter)].map((match) => match[1]!);
    if (names.length === 0) return fc.constant(template);
    return fc.tuple(...names.map((name) => pathValues(name, space))).map((values) => names.reduce((path, name, i) => path.replace(`{${name}}`, encodeURIComponent(values[i]!)), template));
  };
  return fc.oneof(
    { weight: 4, arbitrary: reads.length > 0 ? fc.constantFrom(...reads).chain(concrete) : fc.constant('counties') },
    { weight: 1, arbitrary: fc.array(fc.stringMatching(/^[a-z0-9-]{1,8}$/), { minLength: 1, maxLength: 3 }).map((segments) => segments.join('/')) },
  );
}

const intTexts = (bounds: { min?: number; max?: number; beyond?: number }) => {
  const inside = fc.integer({ min: bounds.min ?? -1000, max: bounds.max ?? Math.max((bounds.min ?? 0) + 1000, 1000) }).map(String);
  const edges = [bounds.min, bounds.max].flatMap((edge) => (edge === undefined ? [] : [edge - 1, edge, edge + 1])).map(String);
  const broken = fc.constantFrom('-1', '0', '2147483648', '9223372036854775808', '1e3', '1.5', '7.0', ' 7', '0x10', 'abc', '', '１', '+5', '-0');
  // A count legacy loops over (seed-sample-data) is not sent as 2^63: legacy would write rows until stopped.
  const sendable = bounds.beyond === undefined ? broken : broken.filter((text) => !(Number(text) > bounds.beyond!));
  return { valid: inside, invalid: fc.oneof(fc.constantFrom(...(edges.length > 0 ? edges : ['0'])), sendable) };
};

/** Values of one declared query parameter: inside its declaration, and past it. */
function queryValues(parameter: QueryParameter, space: InputSpace): { valid: fc.Arbitrary<string>; invalid: fc.Arbitrary<string> } {
  const counties = space.counties.map((county) => county.countyId);
  const odd = fc.oneof(unicode, encodedTexts, fc.constant(''), fc.constant('x'.repeat(500)));
  if (parameter === 'county') return { valid: fc.constantFrom(...counties), invalid: fc.oneof(fc.constantFrom('nowhere_wa', ...counties.map((id) => id.toUpperCase())), odd) };
  if (parameter === 'text') return { valid: fc.stringMatching(/^[A-Za-z_]{1,12}$/), invalid: odd };
  if (parameter === 'bool') return { valid: fc.constantFrom('true', 'false', '1', '0', 'yes', 'no', 'on', 'off'), invalid: fc.constantFrom('TRUE', 'maybe', '', '2', 'tru') };
  if (parameter === 'timestamp') {
    return {
      valid: fc.constantFrom('2020-01-01T00:00:00', '2026-01-01', '2099-12-31T23:59:59.999999', '2024-06-30 12:00:00'),
      invalid: fc.constantFrom('2024-06-30T12:00:00Z', '2024-06-30T12:00:00+02:00', '2023-02-30', 'yesterday', '', '1700000000'),
    };
  }
  if ('int' in parameter) return intTexts(parameter.int);
  const values = parameter.enum;
  return { valid: fc.constantFrom(...values), invalid: fc.oneof(fc.constantFrom(...values.map((value) => value.toLowerCase()), ...values.map((value) => `${value} `)), odd) };
}

function queryCases(route: Route, space: InputSpace, invalid: boolean): fc.Arbitrary<{ query: Array<[string, string]>; rawQuery: boolean }> {
  const declared = Object.entries(route.query ?? {});
  const one = ([name, parameter]: [string, QueryParameter]): fc.Arbitrary<Array<[string, string]>> => {
    const values = queryValues(parameter, space);
    const value = invalid ? fc.oneof({ weight: 3, arbitrary: values.valid }, { weight: 2, arbitrary: values.invalid }) : values.valid;
    return fc.oneof(
      { weight: 6, arbitrary: value.map((v): Array<[string, string]> => [[name, v]]) },
      // A repeated parameter: FastAPI takes the last, Flask's args the first.
      { weight: invalid ? 1 : 0, arbitrary: fc.tuple(value, value).map(([a, b]): Array<[string, string]> => [[name, a], [name, b]]) },
    );
  };
  const parts = declared.map((entry) => fc.option(one(entry), { freq: 2, nil: undefined }));
  const undeclared = invalid ? fc.option(fc.tuple(fc.stringMatching(/^[a-z_]{1,8}$/), fc.oneof(unicode, encodedTexts)).map(([n, v]): Array<[string, string]> => [[n, v]]), { freq: 5, nil: undefined }) : fc.constant(undefined);
  return fc.tuple(fc.tuple(...parts, undeclared), invalid ? fc.boolean() : fc.constant(false)).map(([chosen, raw]) => ({
    query: (chosen as Array<Array<[string, string]> | undefined>).flatMap((entry) => entry ?? []),
    // Raw: the values go out as written, so '%2F' and '%ZZ' reach the server's own decoding.
    rawQuery: raw,
  }));
}

const fieldVocabulary = ['county_id', 'username', 'password', 'text', 'job_id', 'format', 'status', 'report_type', 'analysis_type', 'parameters', 'limit', 'refresh_token'];

/** Bodies for a route without a generator of its own: JSON objects over the platform's field names, and broken bodies. */
function genericBodies(space: InputSpace, passwords: Readonly<Record<string, string>>): fc.Arbitrary<FuzzCase> {
  const counties = space.counties.map((county) => county.countyId);
  const leaf = fc.oneof(fc.constantFrom(...counties, ...Object.keys(passwords), ...Object.values(passwords)), fc.integer(), fc.boolean(), fc.constant(null), unicode, fc.constant([]), fc.constant({}));
  return fc.oneof(
    { weight: 3, arbitrary: fc.dictionary(fc.constantFrom(...fieldVocabulary), leaf, { maxKeys: 4 }).map((body) => ({ family: 'generic-object', body })) },
    { weight: 2, arbitrary: fc.constantFrom(...Object.entries(passwords)).chain(([user, password]) => fc.constantFrom<FuzzCase>(
      { family: 'credentials', body: { username: user, password } },
      { family: 'credentials', body: { username: user, password: `${password}x` } },
      { family: 'credentials', body: { username: user } },
    )) },
    { weight: 1, arbitrary: fc.constantFrom<FuzzCase>({ family: 'not-an-object', raw: '[]' }, { family: 'not-an-object', raw: 'null' }, { family: 'malformed-json', raw: '{"a":' }, { family: 'empty-body', raw: '' }) },
  );
}

/** The plan of one catalogued route. */
export function planRoute(route: Route, catalogue: RouteCatalogue, space: InputSpace, options: PlanOptions & { passwords?: Readonly<Record<string, string>> } = {}): RoutePlan {
  const invalid = options.invalid ?? true;
  const passwords = options.passwords ?? { admin: 'admin123', assessor: 'assessor123', staff: 'staff123', auditor: 'auditor123' };
  const users = options.users ?? Object.keys(passwords);
  const inputs: string[] = [];
  const bodyRoute = route.method === 'GET' ? undefined : bodyRouteOf(route, catalogue);
  const takesBody = route.method !== 'GET' && route.method !== '*' ? true : route.method === '*';
  let body: fc.Arbitrary<FuzzCase> = fc.constant({ family: 'valid' });
  if (bodyRoute) {
    body = fuzzCases(bodyRoute, space, { invalid });
    inputs.push(`body of ${bodyRoute}`);
  } else if (takesBody) {
    body = invalid ? genericBodies(space, passwords) : genericBodies(space, passwords).filter((c) => c.family === 'credentials' || c.family === 'generic-object');
    inputs.push('generic bodies');
  }

  const parameters = parametersOf(route);
  const correlated = new Set((route.correlation ?? []).filter((entry) => entry.in === 'path').map((entry) => entry.at));
  const setupParameter = parameters.find((parameter) => correlated.has(parameter.name));
  // An id read from a top-level body field, made by a route the catalogue names (another service's).
  const bodyId = setupParameter ? undefined : (route.correlation ?? []).find((entry) => entry.in === 'request.body' && entry.madeBy !== undefined && /^\$\.[A-Za-z0-9_]+$/.test(entry.at));
  const bodyField = bodyId?.at.slice(2);
  const bodyMaker = bodyId ? catalogue.byId(bodyId.madeBy!) : undefined;
  const setupName = setupParameter?.name ?? bodyField;
  const creators = setupParameter
    ? creatorsOf(route, catalogue, (route.correlation ?? []).find((entry) => entry.in === 'path' && entry.at === setupParameter.name)!.id)
    : bodyMaker ? [bodyMaker] : [];
  // A list reads the records its plugin's creators make: now and then one is made first and left running.
  const listCreators = !setupParameter && /\.list$/.test(route.id) ? creatorsOf(route, catalogue) : [];
  const creatorCases = [...creators, ...listCreators].map((creator) => {
    const creatorBody = bodyRouteOf(creator, catalogue);
    return { creator, body: creatorBody ? fuzzCases(creatorBody, space, { invalid: false }) : fc.constant<FuzzCase>({ family: 'valid', body: {} }) };
  });
  for (const parameter of parameters) {
    const setup = parameter === setupParameter && creators.length > 0 ? ` (setup ${creators.map((creator) => creator.id).join(' or ')})` : '';
    inputs.push(`path ${parameter.name}${parameter.tail ? '*' : ''}${setup}`);
  }
  if (bodyField) inputs.push(`body ${bodyField} (setup ${creators.map((creator) => creator.id).join(' or ')})`);
  if (listCreators.length > 0) inputs.push(`in-flight ${listCreators.map((creator) => creator.id).join(' or ')}`);
  for (const name of Object.keys(route.query ?? {})) inputs.push(`query ${name}`);
  if (route.service === 'gateway') inputs.push(`logins ${users.join(', ')}, forged, none`);

  // The record acted on: one each side's setup creates (settled, or left to race a write), or an id naming nothing.
  const target = fc.oneof(
    { weight: creatorCases.length > 0 ? 4 : 0, arbitrary: creatorCases.length > 0
      ? fc.tuple(fc.nat({ max: creatorCases.length - 1 }), fc.boolean()).chain(([which, race]) => creatorCases[which]!.body.map((made) => ({
        creator: which, setupBody: made.body, settled: !(race && (route.writes || listCreators.length > 0)),
      })))
      : fc.constant(undefined) },
    { weight: setupName ? 2 : 0, arbitrary: fc.oneof(unknownIds, encodedTexts).map((id) => ({ unknown: id })) },
    { weight: setupName ? (bodyField ? 1 : 0) : listCreators.length > 0 ? 3 : 1, arbitrary: fc.constant(undefined) },
  );
  const others = fc.tuple(...parameters.filter((parameter) => parameter !== setupParameter).map((parameter) => (parameter.tail
    ? tailValues(route, catalogue, space)
    : invalid ? fc.oneof({ weight: 5, arbitrary: pathValues(parameter.name, space) }, { weight: 1, arbitrary: encodedTexts }) : pathValues(parameter.name, space))));
  const query = queryCases(route, space, invalid);
  const who = route.service === 'gateway'
    ? fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...users) }, { weight: invalid ? 1 : 0, arbitrary: fc.constantFrom('forged', undefined) })
    : fc.constant(undefined);
  const method = route.method === '*' ? fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH') : fc.constant(undefined);

  const cases = fc.tuple(body, target, others, query, who, method, invalid ? fc.boolean() : fc.constant(false)).map(([made, acted, values, q, as, verb, rawPath]): FuzzCase => {
    const path: Record<string, string> = {};
    parameters.filter((parameter) => parameter !== setupParameter).forEach((parameter, index) => (path[parameter.name] = values[index]!));
    const fuzzCase: FuzzCase = { ...made };
    if (Object.keys(path).length > 0) fuzzCase.path = path;
    if (acted && 'unknown' in acted) {
      if (bodyField) putBodyField(fuzzCase, bodyField, acted.unknown);
      else fuzzCase.pathId = acted.unknown;
    }
    if (acted && 'setupBody' in acted) {
      // The record is the one each side's setup made, not an id the body generator named.
      delete fuzzCase.pathId;
      if (bodyField) putBodyField(fuzzCase, bodyField, `{${bodyField}}`);
      fuzzCase.setupBody = { creator: creatorCases[acted.creator]!.creator.id, body: acted.setupBody };
      fuzzCase.settled = acted.settled;
    }
    if (q.query.length > 0) {
      fuzzCase.query = q.query;
      if (q.rawQuery) fuzzCase.rawQuery = true;
    }
    if (as !== undefined) fuzzCase.as = as;
    if (verb !== undefined) fuzzCase.method = verb;
    if (rawPath && Object.keys(path).length > 0) fuzzCase.rawPath = true;
    return fuzzCase;
  });

  return { route, cases, inputs, request: (fuzzCase) => requestOf(route, catalogue, fuzzCase, bodyRoute, setupName, takesBody) };
}

/** Makes the case's body name `id` at `field`: a generated object keeps its other fields, a body that is no object is replaced. */
function putBodyField(fuzzCase: FuzzCase, field: string, id: string): void {
  const body = fuzzCase.body;
  const object = body !== null && typeof body === 'object' && !Array.isArray(body) && fuzzCase.raw === undefined;
  if (!object) fuzzCase.family = 'record-id';
  fuzzCase.body = { ...(object ? (body as Record<string, unknown>) : {}), [field]: id };
  delete fuzzCase.raw;
}

/** The HTTP request a catalogue case stands for. */
function requestOf(route: Route, catalogue: RouteCatalogue, fuzzCase: FuzzCase, bodyRoute: FuzzableRoute | undefined, setupName: string | undefined, takesBody: boolean): RunRequest {
  const method = fuzzCase.method ?? route.method;
  let path = route.path;
  for (const [name, value] of Object.entries(fuzzCase.path ?? {})) {
    const tail = route.path.includes(`{${name}*}`);
    // A tail is a path already; a raw value goes out as written.
    path = path.replace(tail ? `{${name}*}` : `{${name}}`, tail || fuzzCase.rawPath ? value : encodeURIComponent(value));
  }
  const placeholder = setupName ? `{${setupName}}` : undefined;
  if (placeholder && fuzzCase.pathId !== undefined) path = path.replace(placeholder, fuzzCase.rawPath ? fuzzCase.pathId : encodeURIComponent(fuzzCase.pathId));
  if (fuzzCase.query) {
    const encode = fuzzCase.rawQuery ? (text: string) => text.replace(/[\s#&]/g, encodeURIComponent) : encodeURIComponent;
    path += `?${fuzzCase.query.map(([name, value]) => `${name}=${encode(value)}`).join('&')}`;
  }
  const bodyText = bodyRoute
    ? toRequest(bodyRoute, fuzzCase).body
    : method === 'GET' || !takesBody ? undefined : fuzzCase.raw ?? (fuzzCase.body === undefined ? undefined : JSON.stringify(fuzzCase.body));
  const request: RunRequest = {
    method,
    path,
    service: route.service,
    ...(bodyText === undefined || method === 'GET' ? {} : { body: bodyText }),
    ...(fuzzCase.as === undefined ? {} : { as: fuzzCase.as }),
  };
  const made = fuzzCase.setupBody as { creator: string; body: unknown } | undefined;
  if (made) {
    const creator = catalogue.byId(made.creator)!;
    const idAt = creator.correlation!.find((entry) => entry.in === 'response.body')!.at;
    const creatorBodyRoute = bodyRouteOf(creator, catalogue);
    const setupRequest: RunRequest = {
      method: creator.method,
      path: creator.path,
      service: creator.service,
      body: creatorBodyRoute ? toRequest(creatorBodyRoute, { family: 'valid', body: made.body }).body! : JSON.stringify(made.body),
      // The record is made by a user who may make it; the request itself goes as its case says.
      ...(creator.service === 'gateway' ? { as: 'admin' } : {}),
    };
    request.setup = { request: setupRequest, idAt, placeholder: placeholder ?? '{no-placeholder}', route: creator, follow: fuzzCase.settled ?? true };
  }
  return request;
}
