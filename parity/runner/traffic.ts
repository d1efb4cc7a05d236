/**
 * `cutover traffic`: a bounded load driver through the proxy. Open loop, as GoReplay and
 * load generators that measure honestly do: request i is due at start + i / rate whether or
 * not earlier answers are in, so a slow side shows as latency and in-flight requests, never
 * as a lower rate. It sends what traffic-plan.ts chooses (every catalogued route, whole job
 * workflows, real logins), stops by itself at the duration or the count, waits a bounded
 * time for what is in flight, and sums up.
 */
import type { RouteCatalogue, Service } from '../../flags/route-catalogue.js';
import { CutoverError } from '../../src/errors.js';
import { loadFixtures, tryParseJson, type Fixture } from './fixture.js';
import { ReplayLogins } from './replay-login.js';
import { liveRequest, sendRequest } from './replay.js';
import { TrafficPlan, type InputSpace, type PlannedRequest } from './traffic-plan.js';

export interface TrafficOptions {
  catalogue: RouteCatalogue;
  /** The proxy's doors, per service (a route of a service without a door is not sent, and counted as failed). */
  urls: { sync: string; gateway: string } & Partial<Record<Service, string>>;
  /** Requests per second (ignored with `speed`). */
  rate: number;
  /**
   * Replay the golden fixtures at this multiple of their recorded pace instead of generating at
   * `rate` (GoReplay's `--input-file 'x|400%'`): a gap longer than 2 s between two recordings
   * (another recording session) counts as 2 s.
   */
  speed?: number;
  /** Stop after this long (ms) or after `count` requests, whichever is given (one must be). */
  durationMs?: number;
  count?: number;
  /** Fixture directory the request shapes come from (default the committed golden set). */
  fixturesDir: string;
  passwords: Readonly<Record<string, string>>;
  /** The target's data; read from the sync door when absent. */
  space?: InputSpace;
  /** Requests in flight at most; a due request beyond it is counted as skipped, not sent (default 256). */
  maxInFlight?: number;
  requestTimeoutMs?: number;
  /** How long to wait, after the last send, for answers still in flight (default 30 s). */
  drainMs?: number;
  /** Where progress goes: a bar on a TTY, a line every 5 s otherwise. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  tty?: boolean;
  random?: () => number;
}

export interface TrafficSummary {
  rate: number;
  /** Set when the golden fixtures were replayed at this multiple of their pace (then `rate` was not asked for). */
  speed?: number;
  /** Requests sent, and when each was sent (ms since the start), for rate checks. */
  sent: number;
  sentAtMs: number[];
  /** Due requests not sent because `maxInFlight` were in flight. */
  skipped: number;
  answered: number;
  /** Requests that got no answer (connection refused, timeout). */
  failed: number;
  /** Answers still in flight when the drain ended. */
  unfinished: number;
  byStatus: Record<string, number>;
  byRoute: Record<string, number>;
  /** From the first send to the last. */
  sendingMs: number;
  elapsedMs: number;
  /** Catalogued routes no fixture shows a request of. */
  unreachable: string[];
}

/** The target's counties and up to 100 parcels of each, read through the sync door. */
export async function readInputSpace(syncUrl: string, timeoutMs = 30_000): Promise<InputSpace> {
  const counties = tryParseJson((await sendRequest(`${syncUrl}/counties`, 'GET', {}, undefined, timeoutMs)).body);
  const ids = Array.isArray(counties) ? counties.flatMap((county) => (county && typeof county === 'object' && !Array.isArray(county) && typeof (county as Record<string, unknown>).county_id === 'string' ? [(county as Record<string, string>).county_id!] : typeof county === 'string' ? [county] : [])) : [];
  if (ids.length === 0) throw new CutoverError('CUTOVER_ERR_TRAFFIC_NO_DATA', `${syncUrl}/counties lists no county: seed the target (cutover seed) before driving traffic`);
  const properties = new Map<string, string[]>();
  for (const county of ids) {
    const list = tryParseJson((await sendRequest(`${syncUrl}/properties?county_id=${encodeURIComponent(county)}&limit=100`, 'GET', {}, undefined, timeoutMs)).body);
    properties.set(county, Array.isArray(list) ? list.flatMap((row) => (row && typeof row === 'object' && !Array.isArray(row) && typeof (row as Record<string, unknown>).property_id === 'string' ? [(row as Record<string, string>).property_id!] : [])) : []);
  }
  return { counties: ids, properties };
}

function substituteWith(replacements: ReadonlyMap<string, string>): (text: string) => string {
  return (text) => {
    let out = text;
    for (const [recorded, live] of replacements) out = out.split(recorded).join(live);
    return out;
  };
}

/** Drives traffic until the duration or count is reached; never throws for a failed request (it is counted). */
export async function runTraffic(options: TrafficOptions): Promise<TrafficSummary> {
  if (!(options.rate > 0)) throw new CutoverError('CUTOVER_ERR_USAGE', `--rate must be a positive number of requests per second; got ${options.rate}`);
  if (options.speed !== undefined && !(options.speed > 0)) throw new CutoverError('CUTOVER_ERR_USAGE', `--speed must be a positive multiple like 4x; got ${options.speed}`);
  if (options.durationMs === undefined && options.count === undefined) throw new CutoverError('CUTOVER_ERR_USAGE', 'give --duration or --count: traffic stops by itself');
  const space = options.space ?? (await readInputSpace(options.urls.sync));
  const fixtures: Fixture[] = [...loadFixtures(options.fixturesDir).values()].map((entry) => entry.fixture);
  const plan = new TrafficPlan(options.catalogue, fixtures, space, options.random);
  const logins = new ReplayLogins(options.urls.gateway, options.passwords, options.requestTimeoutMs ?? 30_000);
  const pace = options.speed === undefined ? undefined : recordedPace(plan.recorded(), options.speed);
  const total = options.count ?? (pace ? pace.countWithin(options.durationMs!) : Math.max(1, Math.round((options.rate * options.durationMs!) / 1000)));
  const intervalMs = 1000 / options.rate;
  const dueAt = (i: number) => (pace ? pace.offsetOf(i) : i * intervalMs);
  const maxInFlight = options.maxInFlight ?? 256;
  const summary: TrafficSummary = { rate: options.rate, ...(options.speed === undefined ? {} : { speed: options.speed }), sent: 0, sentAtMs: [], skipped: 0, answered: 0, failed: 0, unfinished: 0, byStatus: {}, byRoute: {}, sendingMs: 0, elapsedMs: 0, unreachable: plan.unreachable.map((route) => route.id) };
  const progress = new TrafficProgress(options.stream ?? process.stderr, options.tty ?? Boolean((options.stream ?? process.stderr).isTTY), total);
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();

  const send = (planned: PlannedRequest) => {
    const work = (async () => {
      try {
        const { path, headers, body } = await liveRequest(planned.fixture, options.passwords, logins, substituteWith(planned.replacements));
        const base = options.urls[planned.route.service];
        if (base === undefined) throw new Error(`no door for service ${planned.route.service}`);
        const answer = await sendRequest(`${base}${path}`, planned.fixture.request.method, headers, body, options.requestTimeoutMs ?? 30_000);
        summary.answered++;
        const status = `${Math.floor(answer.status / 100)}xx`;
        summary.byStatus[status] = (summary.byStatus[status] ?? 0) + 1;
        plan.learn(planned, answer.status, tryParseJson(answer.body));
      } catch {
        summary.failed++;
      }
    })();
    const tracked = work.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  for (let i = 0; i < total; i++) {
    const due = started + dueAt(i);
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (inFlight.size >= maxInFlight) {
      summary.skipped++;
    } else {
      const planned = pace ? plan.replay(pace.fixtureOf(i)) : plan.next();
      summary.sent++;
      summary.sentAtMs.push(performance.now() - started);
      summary.byRoute[planned.route.id] = (summary.byRoute[planned.route.id] ?? 0) + 1;
      send(planned);
    }
    progress.update(i + 1, summary, inFlight.size);
  }
  summary.sendingMs = summary.sentAtMs.length > 0 ? summary.sentAtMs[summary.sentAtMs.length - 1]! - summary.sentAtMs[0]! : 0;
  const drained = Promise.all([...inFlight]);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, options.drainMs ?? 30_000)))]);
  clearTimeout(timer);
  summary.unfinished = inFlight.size;
  summary.elapsedMs = performance.now() - started;
  progress.finish(summary);
  return summary;
}

const longestGapMs = 2000;

/** When the i-th request of a replay at `speed` is due: the recorded gaps, cut at 2 s and divided by the speed, the set repeated. */
export function recordedPace(fixtures: readonly Fixture[], speed: number) {
  if (fixtures.length === 0) throw new CutoverError('CUTOVER_ERR_USAGE', '--speed replays the golden fixtures, and the fixture directory holds none with an answer');
  const offsets = [0];
  for (let i = 1; i < fixtures.length; i++) {
    const gap = Math.min(Math.max(Date.parse(fixtures[i]!.recordedAt) - Date.parse(fixtures[i - 1]!.recordedAt), 0), longestGapMs);
    offsets.push(offsets[i - 1]! + gap / speed);
  }
  // The next pass starts one average gap after the last request of this one.
  const passMs = offsets[offsets.length - 1]! + Math.max(offsets[offsets.length - 1]! / fixtures.length, 1);
  const offsetOf = (i: number) => Math.floor(i / fixtures.length) * passMs + offsets[i % fixtures.length]!;
  return {
    offsetOf,
    fixtureOf: (i: number) => fixtures[i % fixtures.length]!,
    countWithin: (durationMs: number) => {
      let count = 0;
      while (offsetOf(count) < durationMs) count++;
      return Math.max(count, 1);
    },
  };
}

/** A bar that redraws itself on a terminal; a plain line every 5 s otherwise, so CI logs stay readable. */
class TrafficProgress {
  private lastLine = 0;
  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly tty: boolean,
    private readonly total: number,
  ) {}

  update(done: number, summary: TrafficSummary, inFlight: number): void {
    const now = performance.now();
    const text = `${summary.sent} sent, ${summary.answered} answered, ${inFlight} in flight, ${summary.failed} failed, ${summary.skipped} skipped`;
    if (this.tty) {
      if (now - this.lastLine < 100 && done < this.total) return;
      this.lastLine = now;
      const width = 30;
      const filled = Math.round((done / this.total) * width);
      this.stream.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(Math.round((done / this.total) * 100)).padStart(3)}% ${text}\x1b[K`);
    } else if (now - this.lastLine >= 5000 || done === this.total) {
      this.lastLine = now;
      this.stream.write(`traffic: ${done}/${this.total} due, ${text}\n`);
    }
  }

  finish(summary: TrafficSummary): void {
    if (this.tty) this.stream.write('\n');
    const achieved = summary.sendingMs > 0 ? ((summary.sent - 1) * 1000) / summary.sendingMs : summary.sent;
    const statuses = Object.entries(summary.byStatus).map(([status, count]) => `${status} ${count}`).join(', ');
    this.stream.write(
      `traffic: ${summary.sent} requests to ${Object.keys(summary.byRoute).length} routes at ${achieved.toFixed(1)}/s (${summary.speed === undefined ? `asked ${summary.rate}/s` : `the recordings' pace x${summary.speed}`}) in ${(summary.elapsedMs / 1000).toFixed(1)} s; ` +
        `${summary.answered} answered (${statuses || 'none'}), ${summary.failed} failed, ${summary.skipped} skipped, ${summary.unfinished} unfinished` +
        `${summary.unreachable.length > 0 ? `; no fixture for ${summary.unreachable.join(', ')}` : ''}\n`,
    );
  }
}
