/**
 * `cutover replay`: every golden Fixture is sent again to a target (legacy or the
 * reimplementation) and the answer compared with the recorded one by the comparison engine
 * (parity/compare/engine.ts) under the route's rules. Fixtures run in recording order;
 * sequences are replayed as sequences: the ids a fixture's answer produced on the target
 * replace the recorded ids in later fixtures (and are correlated in the comparison), and a
 * read of a job waits, within a deadline, for the job to reach the recorded state. Redacted
 * credentials are replaced by a fresh login as the recorded user.
 *
 * Golden update modes, as vitest's: `none` never writes; `new` writes only fixtures that have
 * no answer yet; `all` also rewrites mismatched ones and deletes obsolete ones. CI (the `CI`
 * environment variable) forces `none`: any other mode there is refused with a named error.
 */
import { rmSync } from 'node:fs';
import type { Route, RouteCatalogue, Service } from '../../flags/route-catalogue.js';
import { compareExchanges, type Comparison, type Exchange, type TimeWindow } from '../compare/engine.js';
import { JsonNumber, type JsonValue } from '../compare/json-text.js';
import { CutoverError } from '../../src/errors.js';
import { bodyBytes, loadFixtures, renderJson, routeGlobMatcher, tryParseJson, writeFixture, type Fixture, type FixtureBody } from './fixture.js';
import type { RunItem, RunProgress } from './progress.js';
import { redactBody, valueAt } from './record-tap.js';
import { redacted, type Redactor } from '../compare/redact.js';
import { ReplayLogins } from './replay-login.js';
import { routeNoise } from './calibrate-learn.js';
import { loadAcceptedDifferences, type AcceptedRegistry } from '../compare/accepted-registry.js';
import { checkTargetDataset } from './dataset.js';

export type UpdateMode = 'none' | 'new' | 'all';
export const updateModes: readonly UpdateMode[] = ['none', 'new', 'all'];

export interface ReplayTarget {
  name: 'legacy' | 'reimpl';
  /** Base URL per service; `upstreams` for routes served by their own upstream (route.upstream, e.g. gisExport). */
  urls: Record<Service, string> & { gateway: string };
  upstreams?: Record<string, string>;
}

export interface ReplayOptions {
  dir: string;
  catalogue: RouteCatalogue;
  target: ReplayTarget;
  redactor: Redactor;
  passwords: Readonly<Record<string, string>>;
  update?: UpdateMode;
  routes?: readonly string[];
  progress: RunProgress;
  /** The environment CI is detected from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Deadline for a job read to reach the recorded state. */
  stateDeadlineMs?: number;
  requestTimeoutMs?: number;
  /** The accepted-differences registry (default parity/accepted-differences.yaml): replay judges as live shadowing does. */
  accepted?: AcceptedRegistry;
  /** Read the target's dataset and refuse another than the fixtures' (dataset.json); default true. */
  checkDataset?: boolean;
}

export interface ReplayItem extends RunItem {
  comparison?: Comparison;
}

/** True when the environment says it is CI (`CI` set to anything but '', 0 or false). */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** The update mode to use: refuses anything but `none` in CI (CUTOVER_ERR_GOLDEN_UPDATE_IN_CI). */
export function checkUpdateMode(mode: string | undefined, env: NodeJS.ProcessEnv): UpdateMode {
  const chosen = (mode ?? 'none') as UpdateMode;
  if (!updateModes.includes(chosen)) throw new CutoverError('CUTOVER_ERR_USAGE', `--update must be one of ${updateModes.join(', ')}; got '${mode}'`);
  if (chosen !== 'none' && isCi(env)) {
    throw new CutoverError('CUTOVER_ERR_GOLDEN_UPDATE_IN_CI', `--update ${chosen} refused: CI is set (CI=${env.CI}), and goldens are never rewritten in CI`);
  }
  return chosen;
}

const terminalStates = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export interface LiveAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function toExchange(answer: { status: number; headers: Record<string, string>; body: FixtureBody | Buffer }, window: TimeWindow): Exchange {
  return { status: answer.status, headers: answer.headers, body: Buffer.isBuffer(answer.body) ? answer.body : bodyBytes(answer.body), window };
}

/** The fixtures a route filter selects, plus every fixture they need (a status read needs its run). */
function selectWithDependencies(all: Map<string, { file: string; fixture: Fixture }>, routes: readonly string[]): string[] {
  const wanted = routeGlobMatcher(routes);
  const chosen = new Set<string>();
  const add = (key: string) => {
    if (chosen.has(key) || !all.has(key)) return;
    chosen.add(key);
    for (const need of all.get(key)!.fixture.sequence?.needs ?? []) add(need.from);
  };
  for (const [key, { fixture }] of all) if (wanted(fixture.routeId)) add(key);
  return [...chosen].sort((a, b) => {
    const left = all.get(a)!.fixture.recordedAt;
    const right = all.get(b)!.fixture.recordedAt;
    return left === right ? (a < b ? -1 : 1) : left < right ? -1 : 1;
  });
}

export interface ReplaySummary {
  items: ReplayItem[];
  counts: Record<string, number>;
}

/** Replays the fixtures under `dir` against the target; one progress item per fixture. */
export async function runReplay(options: ReplayOptions): Promise<ReplaySummary> {
  const env = options.env ?? process.env;
  const update = checkUpdateMode(options.update, env);
  const syncUrl = options.target.urls.sync;
  if ((options.checkDataset ?? true) && syncUrl !== undefined) await checkTargetDataset(options.dir, syncUrl, options.target.name);
  const all = loadFixtures(options.dir);
  const keys = selectWithDependencies(all, options.routes ?? []);
  options.progress.setTotal(keys.length);
  const logins = new ReplayLogins(options.target.urls.gateway, options.passwords, options.requestTimeoutMs ?? 30_000);
  /** Per fixture key: the id values its answer produced on the target, by id name, and when it was sent. */
  const produced = new Map<string, Map<string, string>>();
  const sentAt = new Map<string, number>();
  const accepted = options.accepted ?? loadAcceptedDifferences(undefined, new Set(options.catalogue.routes.map((route) => route.id)));
  const items: ReplayItem[] = [];
  const counts: Record<string, number> = {};
  const report = (item: ReplayItem) => {
    items.push(item);
    counts[item.outcome] = (counts[item.outcome] ?? 0) + 1;
    options.progress.item(item);
  };
  for (const key of keys) {
    const { file, fixture } = all.get(key)!;
    const route = options.catalogue.byId(fixture.routeId);
    const bare = fixture.request.path;
    if (!route || options.catalogue.match(fixture.service, fixture.request.method, bare)?.id !== route.id) {
      if (update === 'all') rmSync(file);
      report({ id: key, outcome: 'obsolete', detail: route ? `${fixture.request.method} ${bare} is no longer route ${route.id}` : `route ${fixture.routeId} is not in the catalogue${update === 'all' ? ' (deleted)' : ''}` });
      continue;
    }
    try {
      // A list shows every job so far: let the ones replay started finish first, as they had when it was recorded.
      if (route.id.endsWith('.list')) await settleJobs(all, produced, produced.keys(), options);
      // An answer recorded about a finished job (the narrator's analysis of an export) was asked after
      // the job finished: ask it again only once the job it needs has finished too.
      else if (recordsTerminalJob(fixture)) await settleJobs(all, produced, (fixture.sequence?.needs ?? []).map((need) => need.from), options);
      report(await replayOne(key, file, fixture, route, { produced, sentAt, all, accepted }, logins, update, options));
    } catch (error) {
      report({ id: key, outcome: 'errored', detail: (error as Error).message });
    }
  }
  return { items, counts };
}

/** A recorded answer, other than a job read (which waits by itself), naming a job in a terminal state. */
function recordsTerminalJob(fixture: Fixture): boolean {
  if ((fixture.sequence?.needs?.length ?? 0) === 0 || fixture.request.method === 'GET') return false;
  const json = fixture.response?.body && 'json' in fixture.response.body ? fixture.response.body.json : undefined;
  const state = valueAt(json, '$.job_status') ?? valueAt(json, '$.status');
  return state !== undefined && terminalStates.has(state);
}

/**
 * Waits (within the deadline) until every job the given replayed `*.run` fixtures created
 * answers a terminal state on its sync status route — read on sync directly, which needs no login.
 */
async function settleJobs(all: Map<string, { fixture: Fixture }>, produced: Map<string, Map<string, string>>, runKeys: Iterable<string>, options: ReplayOptions): Promise<void> {
  const deadline = Date.now() + (options.stateDeadlineMs ?? 60_000);
  for (const key of [...runKeys]) {
    const ids = produced.get(key);
    if (!ids) continue;
    const runRoute = all.get(key)?.fixture.routeId ?? '';
    if (!runRoute.endsWith('.run')) continue;
    const status = options.catalogue.byId(runRoute.replace(/^gateway\./, 'sync.').replace(/\.run$/, '.status'));
    const parameter = status?.correlation?.find((entry) => entry.in === 'path');
    const value = parameter && ids.get(parameter.id);
    if (!status || !parameter || value === undefined) continue;
    const base = (status.upstream && options.target.upstreams?.[status.upstream]) ?? options.target.urls[status.service];
    const url = `${base}${status.path.replace(`{${parameter.at}}`, encodeURIComponent(value))}`;
    for (;;) {
      const answer = await sendRequest(url, 'GET', {}, undefined, options.requestTimeoutMs ?? 30_000);
      const state = valueAt(tryParseJson(answer.body), '$.status');
      if (answer.status !== 200 || (state !== undefined && terminalStates.has(state)) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }
}

/** What earlier fixtures of a sequence left on the target: the ids their answers produced and when they were sent; and every fixture loaded. */
interface Produced {
  produced: Map<string, Map<string, string>>;
  sentAt: Map<string, number>;
  all: ReadonlyMap<string, { fixture: Fixture }>;
  accepted: AcceptedRegistry;
}

async function replayOne(
  key: string,
  file: string,
  fixture: Fixture,
  route: Route,
  { produced, sentAt, all, accepted }: Produced,
  logins: ReplayLogins,
  update: UpdateMode,
  options: ReplayOptions,
): Promise<ReplayItem> {
  // Recorded id → the target's id, for this fixture's request and its comparison.
  const correlations = new Map<string, string>();
  for (const need of fixture.sequence?.needs ?? []) {
    const value = produced.get(need.from)?.get(need.id);
    if (value === undefined) return { id: key, outcome: 'errored', detail: `needs ${need.id} ${need.value} from ${need.from}, which produced none on ${options.target.name}` };
    correlations.set(need.value, value);
  }
  const substitute = (text: string) => {
    let out = text;
    for (const [recorded, live] of correlations) out = out.split(recorded).join(live);
    return out;
  };
  const { path, headers, body } = await liveRequest(fixture, options.passwords, logins, substitute);
  const base = (route.upstream && options.target.upstreams?.[route.upstream]) ?? options.target.urls[route.service];
  const send = () => sendRequest(`${base}${path}`, fixture.request.method, headers, body, options.requestTimeoutMs ?? 30_000);
  const askedAt = Date.now();
  sentAt.set(key, askedAt);
  let live = await send();
  if (fixture.response && (fixture.sequence?.needs?.length ?? 0) > 0 && fixture.request.method === 'GET') {
    live = await untilRecordedState(fixture, live, send, options.stateDeadlineMs ?? 60_000);
  }
  const answeredAt = Date.now();
  const produces = new Map<string, string>();
  const liveJson = tryParseJson(live.body);
  for (const entry of route.correlation ?? []) {
    if (entry.in !== 'response.body') continue;
    const value = valueAt(liveJson, entry.at);
    if (value !== undefined) produces.set(entry.id, value);
  }
  produced.set(key, produces);
  for (const recordedValue of fixture.sequence?.produces ?? []) {
    const value = produces.get(recordedValue.id);
    if (value !== undefined) correlations.set(recordedValue.value, value);
  }
  // A list shows every job replayed so far: each recorded id is correlated with the one its fixture produced here.
  if (route.id.endsWith('.list')) {
    for (const [from, ids] of produced) {
      for (const recordedValue of all.get(from)?.fixture.sequence?.produces ?? []) {
        const value = ids.get(recordedValue.id);
        if (value !== undefined) correlations.set(recordedValue.value, value);
      }
    }
  }
  // The live answer goes through the same redaction as the golden did, so credentials compare as markers.
  const liveBody = redactBody(options.redactor, live.body, live.headers['content-type']);
  const liveHeaders = options.redactor.headers(live.headers);
  if (!fixture.response) {
    if (update === 'none') return { id: key, outcome: 'missing', detail: 'fixture has no recorded answer (record it with --update new)' };
    writeFixture(options.dir, { ...fixture, recordedAt: new Date(askedAt).toISOString(), response: { status: live.status, headers: pickHeaders(fixture, liveHeaders), body: liveBody } });
    return { id: key, outcome: 'added', detail: `answer recorded from ${options.target.name}` };
  }
  const comparison = await compareExchanges(
    toExchange(fixture.response, goldenWindow(fixture, route, all)),
    toExchange({ status: live.status, headers: liveHeaders, body: bodyBytes(liveBody) }, liveWindow(fixture, route, askedAt, answeredAt, sentAt)),
    // Noise the route's rules pin applies here as in live comparisons (a golden has no calibration of its own), and so do accepted differences.
    { routeId: route.id, rules: route.compare, correlations, accepted: accepted.forRoute(route.id), ...pinnedNoise(route) },
  );
  const mismatches = comparison.differences.filter((difference) => difference.disposition.as === 'mismatch');
  if (comparison.verdict === 'mismatched' && update === 'all') {
    writeFixture(options.dir, { ...fixture, recordedAt: new Date(askedAt).toISOString(), response: { status: live.status, headers: pickHeaders(fixture, liveHeaders), body: liveBody } });
    return { id: key, outcome: 'updated', detail: `${mismatches.length} differences rewritten from ${options.target.name}`, comparison, data: { file, differences: comparison.differences } };
  }
  const detail =
    comparison.verdict === 'mismatched'
      ? mismatches.slice(0, 3).map((d) => `${d.path} ${d.kind}: ${truncate(d.legacy)} → ${truncate(d.reimpl)}`).join('; ')
      : comparison.verdict === 'ignored'
        ? `ignored by ${comparison.ignoredBy.join(', ')}`
        : undefined;
  return { id: key, outcome: comparison.verdict, ...(detail ? { detail } : {}), comparison, data: { file, differences: comparison.differences } };
}

/** A window opened at `askedAt`; a job's opens when the earliest fixture that created it was sent (or at this one, when it creates the job). */
function windowFrom(fixture: Fixture, route: Route, askedAt: number, sentAt: (key: string) => number | undefined): TimeWindow {
  const creators = (fixture.sequence?.needs ?? []).flatMap((need) => {
    const at = sentAt(need.from);
    return at === undefined ? [] : [at];
  });
  const createsJob = (route.correlation ?? []).some((entry) => entry.in === 'response.body');
  const jobAskedAt = creators.length > 0 ? Math.min(...creators) : createsJob ? askedAt : undefined;
  return { askedAt, ...(jobAskedAt === undefined ? {} : { jobAskedAt }) };
}

/** The live answer's window: from this request (or its job's) being sent to the answer read. */
function liveWindow(fixture: Fixture, route: Route, askedAt: number, answeredAt: number, sentAt: ReadonlyMap<string, number>): TimeWindow {
  return { ...windowFrom(fixture, route, askedAt, (key) => sentAt.get(key)), answeredAt };
}

/**
 * The golden's window: a fixture's `recordedAt` is when its request reached the recording proxy,
 * so it opens the window (and its run's opens the job's); when the answer was read is not kept.
 */
function goldenWindow(fixture: Fixture, route: Route, all: ReadonlyMap<string, { fixture: Fixture }>): TimeWindow {
  const recorded = (key: string) => {
    const at = all.get(key)?.fixture.recordedAt;
    return at === undefined ? undefined : Date.parse(at);
  };
  return windowFrom(fixture, route, Date.parse(fixture.recordedAt), recorded);
}

function pinnedNoise(route: Route) {
  const noise = routeNoise(route.id, undefined, route.compare);
  return noise ? { noise } : {};
}

function truncate(value: unknown): string {
  const text = value === undefined ? '(none)' : String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function pickHeaders(fixture: Fixture, live: Record<string, string>): Record<string, string> {
  const names = Object.keys(fixture.response?.headers ?? { 'content-type': '' });
  return Object.fromEntries(names.filter((name) => live[name] !== undefined).map((name) => [name, live[name]!]));
}

/** A fixture's request made sendable: recorded values substituted, redacted credentials replaced by a fresh login as the recorded user. */
export async function liveRequest(
  fixture: Fixture,
  passwords: Readonly<Record<string, string>>,
  logins: ReplayLogins,
  substitute: (text: string) => string,
): Promise<{ path: string; headers: Record<string, string>; body: Buffer | undefined }> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(fixture.request.headers)) {
    if (name === 'authorization' && value.includes(redacted)) headers[name] = `Bearer ${(await logins.tokens(fixture.user)).access}`;
    else if (name === 'cookie' && value.includes(redacted)) headers[name] = await logins.sessionCookie(fixture.user);
    else headers[name] = value;
  }
  return { path: substitute(fixture.request.path), headers, body: await requestBody(fixture, passwords, logins, substitute) };
}

/**
 * The request body to send: recorded ids substituted, and redacted credentials of a login
 * replaced by the recorded user's — its password (form or JSON), a fresh refresh token.
 */
async function requestBody(fixture: Fixture, passwords: Readonly<Record<string, string>>, logins: ReplayLogins, substitute: (text: string) => string): Promise<Buffer | undefined> {
  if (fixture.request.body === null) return undefined;
  const text = bodyBytes(fixture.request.body).toString('utf8');
  // A login recorded as refused was sent with a wrong password: replay it with the redaction marker, which is just as wrong.
  const refused = (fixture.response?.status ?? 200) >= 400;
  const password = fixture.user && !refused ? passwords[fixture.user] : undefined;
  if (fixture.request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(text);
    if (password !== undefined && form.get('password') === redacted) form.set('password', password);
    return Buffer.from(substitute(form.toString()), 'utf8');
  }
  const json = fixture.request.body && 'json' in fixture.request.body ? fixture.request.body.json : undefined;
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && !(json instanceof JsonNumber)) {
    const fields: Record<string, JsonValue> = { ...json };
    if (password !== undefined && fields.password === redacted) fields.password = password;
    if (fields.refresh_token === redacted && fixture.user && !refused) fields.refresh_token = (await logins.tokens(fixture.user)).refresh;
    return Buffer.from(substitute(renderJson(fields, '')), 'utf8');
  }
  return Buffer.from(substitute(text), 'utf8');
}

/** Sends one request and reads the whole answer (redirects not followed: a 302 is an answer). */
export async function sendRequest(url: string, method: string, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number): Promise<LiveAnswer> {
  const response = await fetch(url, { method, headers, body: body ? new Uint8Array(body) : undefined, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  const bytes = Buffer.from(await response.arrayBuffer());
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    out[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies.join(', ');
  return { status: response.status, headers: out, body: bytes };
}

/**
 * A job read waits for the job: sent again until the HTTP status and the body's `status` are
 * the recorded ones (or the job is terminal, when the recording was), within the deadline.
 */
async function untilRecordedState(fixture: Fixture, first: LiveAnswer, send: () => Promise<LiveAnswer>, deadlineMs: number): Promise<LiveAnswer> {
  const recorded = fixture.response!;
  const recordedState = valueAt(recorded.body && 'json' in recorded.body ? recorded.body.json : undefined, '$.status');
  const reached = (answer: LiveAnswer) => {
    if (answer.status !== recorded.status) return false;
    if (recordedState === undefined) return true;
    const state = valueAt(tryParseJson(answer.body), '$.status');
    return state === recordedState || (terminalStates.has(recordedState) && state !== undefined && terminalStates.has(state));
  };
  const deadline = Date.now() + deadlineMs;
  let answer = first;
  while (!reached(answer) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    answer = await send();
  }
  return answer;
}

