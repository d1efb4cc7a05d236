/**
 * `npm run reliability` (issue 9 item 9, its transport part): bounded in count and time,
 * loopback only, stops by itself, prints its figures and writes them to
 * reports/reliability-<UTC stamp>.json.
 *
 * - Conformance against llhttp (tests/proxy/conformance.ts): 20,000 generated connections,
 *   half through a front door on the fast lane, half on the node:http path.
 * - Fuzzing: at least 10,000 malformed requests per front door (gateway, sync, narrator) —
 *   mutated valid requests, noise, and the malformed and smuggling templates — each one llhttp
 *   refuses must get a 4xx from the proxy, the upstream must see no more than llhttp parsed,
 *   and the process must stay up (an uncaught exception fails the run); every door still
 *   serves afterwards.
 *
 * - Load scenarios (load-faults.ts): a fixed open-loop load through `cutover proxy` for
 *   --load-seconds per phase with the shadow side healthy, hung, killed, slowed by 2 s and
 *   answering garbage; with its PostgreSQL (a private one) stopped and started again; and across
 *   a SIGTERM restart: serving answers lost or changed against legacy asked directly, serving
 *   p50/p99, and where every observation went.
 *
 * - Differential fuzz of the route catalogue (catalogue-fuzz.ts): every catalogued route (sync, gateway, narrator)
 *   against real legacy and reimplemented services, --catalogue-runs runs a route (25; 0 skips),
 *   within --catalogue-minutes (15); a counterexample left fails the run.
 *
 * Options: --cases N (20000), --fuzz N per door (10000), --minutes M (20, the bound of the
 * conformance and fuzz parts), --load-seconds S (60, or RELIABILITY_LOAD_SECONDS; 0 skips the
 * load scenarios), --rate R (50 requests/s), --seed S. Exit code 1 when any check failed or a
 * bound cut the run short.
 */
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRouteCatalogue } from '../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import { repoRoot } from '../../src/platform/paths.js';
import { connectionCase, fuzzedBytes, runCase, startRecordingServer, statusesOf, type RecordingServer, type Verdict } from '../proxy/conformance.js';
import { call, configFor, ManualFlags, startProxyWithLegacyAt, startUpstreams, testCatalogue, type TestUpstream } from '../proxy/harness.js';
import { runLoadFaults, type LoadFaultFigures } from './load-faults.js';
import { runCatalogueFuzz, type CatalogueFuzzFigures } from './catalogue-fuzz.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} needs a number, not ${process.argv[at + 1]}`);
  return value;
}

const cases = option('cases', 20_000);
const fuzzPerDoor = option('fuzz', 10_000);
const minutes = option('minutes', 20);
const seed = option('seed', Date.now() % 2 ** 31);
const loadSeconds = option('load-seconds', Number(process.env.RELIABILITY_LOAD_SECONDS ?? 60));
const rate = option('rate', 50);
const deadline = Date.now() + minutes * 60_000;
/** Bounds low enough that a fuzzed body shorter than its length ends in a 408 quickly. */
const clientBounds = { headersTimeoutMs: 500, requestTimeoutMs: 500 };

const uncaught: string[] = [];
process.on('uncaughtException', (error) => uncaught.push(String(error?.stack ?? error)));
process.on('unhandledRejection', (error) => uncaught.push(String((error as Error)?.stack ?? error)));

interface ConformanceFigures {
  path: string;
  runs: number;
  same: number;
  refused: number;
  failed: boolean;
  interrupted: boolean;
  counterexample?: string;
  seconds: number;
}

async function conformance(fastLane: boolean, runs: number, upstreams: Awaited<ReturnType<typeof startUpstreams>>): Promise<ConformanceFigures> {
  const [reference, upstream] = await Promise.all([startRecordingServer(), startRecordingServer()]);
  const flags = new ManualFlags();
  flags.set('sync.echo', 'shadow');
  const proxy = await startProxyWithLegacyAt(upstreams, upstream.port, { proxy: { fastLane, ...clientBounds } }, flags);
  const port = Number(new URL(proxy.urls.sync!).port);
  const started = performance.now();
  const kinds = { same: 0, refused: 0 };
  let failure: Verdict | undefined;
  try {
    const details = await fc.check(
      fc.asyncProperty(connectionCase, async ({ messages, cuts }) => {
        const verdict = await runCase(reference, upstream, port, Buffer.from(messages.join(''), 'latin1'), cuts);
        if (!verdict.ok) {
          failure = verdict;
          return false;
        }
        kinds[verdict.kind as 'same' | 'refused']++;
        return true;
      }),
      { numRuns: runs, seed: seed + (fastLane ? 0 : 1), interruptAfterTimeLimit: Math.max(1000, deadline - Date.now()), endOnFailure: true },
    );
    return {
      path: fastLane ? 'fast lane' : 'node:http',
      runs: details.numRuns,
      ...kinds,
      failed: details.failed,
      interrupted: details.interrupted,
      ...(details.failed ? { counterexample: `${JSON.stringify(details.counterexample)} → ${JSON.stringify(failure)}` } : {}),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await proxy.close();
    await Promise.all([reference.close(), upstream.close()]);
  }
}

interface FuzzFigures {
  door: string;
  sent: number;
  /** Cases llhttp refused (its answer had a 4xx): the ones that count as malformed. */
  malformed: number;
  /** Of those, answered with a 4xx by the proxy. */
  answered4xx: number;
  /** Of those, served as far as llhttp parsed them, the connection closed by a `Connection: close` answer before the bytes that are no request. */
  closedBeforeGarbage: number;
  /** Mutations that were still valid requests (served as llhttp parsed them). */
  stillValid: number;
  /** Cases where the upstream saw more than llhttp parsed, or a malformed one got no 4xx, or a connection hung. */
  failures: number;
  example?: string;
  servesAfter: boolean;
  seconds: number;
}

const doors = ['gateway', 'sync', 'narrator'] as const;
const doorCatalogue = parseRouteCatalogue({
  version: 1,
  routes: [
    ...testCatalogue.routes.map(({ id, service, method, path, owner, writes }) => ({ id, service, method, path, owner, writes })),
    { id: 'gateway.health', service: 'gateway', method: 'GET', path: '/health', owner: 'reliability', writes: false },
    { id: 'narrator.health', service: 'narrator', method: 'GET', path: '/health', owner: 'reliability', writes: false },
  ],
});

async function fuzz(upstreams: Awaited<ReturnType<typeof startUpstreams>>): Promise<FuzzFigures[]> {
  const recorders = Object.fromEntries(await Promise.all(doors.map(async (door) => [door, await startRecordingServer()] as const))) as Record<(typeof doors)[number], RecordingServer>;
  const reference = await startRecordingServer();
  const config = configFor(upstreams, { proxy: clientBounds });
  const at = (door: (typeof doors)[number]) => ({ host: '127.0.0.1', port: recorders[door].port });
  const proxy: RunningProxy = await startProxy({
    config: { ...config, legacy: { ...config.legacy, gateway: at('gateway'), sync: at('sync'), narrator: at('narrator') } },
    catalogue: doorCatalogue,
    flagSource: new ManualFlags(),
    observationStore: new FakeObservationStore(),
    services: [...doors],
  });
  const figures: FuzzFigures[] = [];
  try {
    for (const [index, door] of doors.entries()) {
      const port = Number(new URL(proxy.urls[door]!).port);
      const started = performance.now();
      const figure: FuzzFigures = { door, sent: 0, malformed: 0, answered4xx: 0, closedBeforeGarbage: 0, stillValid: 0, failures: 0, servesAfter: false, seconds: 0 };
      // Generated in batches until enough malformed ones were sent, within the bound.
      for (let batch = 0; figure.malformed < fuzzPerDoor && Date.now() < deadline; batch++) {
        for (const bytes of fc.sample(fuzzedBytes, { numRuns: 1000, seed: seed + 100 * index + batch })) {
          const verdict = await runCase(reference, recorders[door], port, bytes, []);
          figure.sent++;
          const llhttpRefused = statusesOf(verdict.referenceAnswer ?? '').some((status) => status >= 400 && status < 500);
          const proxy4xx = statusesOf(verdict.answer).some((status) => status >= 400 && status < 500);
          // Served what llhttp parsed, and closed the connection after an answer that said so (HTTP/1.0, Connection: close) before the bytes after it.
          const closedFirst = verdict.kind === 'same' && /\r\nconnection: close\r\n(?:(?!HTTP\/1\.1 )[\s\S])*$/i.test(verdict.answer);
          if (llhttpRefused) {
            figure.malformed++;
            if (proxy4xx) figure.answered4xx++;
            else if (closedFirst) figure.closedBeforeGarbage++;
          } else if (verdict.kind === 'same') {
            figure.stillValid++;
          }
          if (!verdict.ok || (llhttpRefused && !proxy4xx && !closedFirst)) {
            figure.failures++;
            figure.example ??= `${JSON.stringify(bytes.toString('latin1'))} → ${JSON.stringify(verdict)}`;
          }
        }
      }
      figure.servesAfter = (await call(`${proxy.urls[door]}/health`)).status === 200;
      figure.seconds = (performance.now() - started) / 1000;
      figures.push(figure);
    }
  } finally {
    await proxy.close();
    await Promise.all([reference.close(), ...Object.values(recorders).map((recorder) => recorder.close())]);
  }
  return figures;
}

async function main(): Promise<number> {
  const started = new Date();
  console.log(`reliability run: ${cases} conformance cases, ${fuzzPerDoor} malformed requests per door, at most ${minutes} min, seed ${seed}; load scenarios ${loadSeconds ? `of ${loadSeconds} s a phase at ${rate} requests/s` : 'skipped'}`);
  const upstreams = await startUpstreams();
  let conformanceFigures: ConformanceFigures[] = [];
  let fuzzFigures: FuzzFigures[] = [];
  try {
    const lane = Math.ceil(cases / 2);
    conformanceFigures = [await conformance(true, lane, upstreams), await conformance(false, cases - lane, upstreams)];
    for (const figure of conformanceFigures) {
      console.log(`conformance, ${figure.path}: ${figure.runs} cases in ${figure.seconds.toFixed(1)} s — ${figure.same} as llhttp parsed them, ${figure.refused} refused with a 4xx and no more upstream; ${figure.failed ? `FAILED: ${figure.counterexample}` : 'no counterexample'}${figure.interrupted ? ' (cut short by the time bound)' : ''}`);
    }
    fuzzFigures = await fuzz(upstreams);
    for (const figure of fuzzFigures) {
      console.log(`fuzz, ${figure.door} door: ${figure.sent} sent in ${figure.seconds.toFixed(1)} s, ${figure.malformed} malformed (llhttp refused them), ${figure.answered4xx} of those answered with a 4xx and ${figure.closedBeforeGarbage} served as far as llhttp parsed them then closed by a Connection: close answer, ${figure.stillValid} still valid after mutation, ${figure.failures} failures; serves after: ${figure.servesAfter ? 'yes' : 'NO'}${figure.example ? `; first failure: ${figure.example}` : ''}`);
    }
  } finally {
    await Promise.all(Object.values(upstreams).map((upstream: TestUpstream) => upstream.close()));
  }
  const loadFaults: LoadFaultFigures | undefined = loadSeconds > 0 ? await runLoadFaults({ rate, durationMs: loadSeconds * 1000 }) : undefined;
  for (const failure of loadFaults?.failures ?? []) console.log(`load scenarios: FAILED: ${failure}`);
  const catalogueRuns = option('catalogue-runs', 25);
  const catalogueFuzz: CatalogueFuzzFigures | undefined = catalogueRuns > 0 ? await runCatalogueFuzz({ runs: catalogueRuns, seed, minutes: option('catalogue-minutes', 15) }) : undefined;
  if (catalogueFuzz) {
    console.log(`catalogue fuzz: ${catalogueFuzz.routes.length} routes, ${catalogueFuzz.cases} cases in ${catalogueFuzz.seconds.toFixed(0)} s, ${catalogueFuzz.counterexamples.length} counterexamples left, ${catalogueFuzz.skipped.length} routes not fuzzed`);
    for (const failure of catalogueFuzz.failures) console.log(`catalogue fuzz: FAILED: ${failure}`);
  }
  console.log(`uncaught exceptions or rejections: ${uncaught.length}${uncaught.length ? `\n${uncaught.slice(0, 3).join('\n')}` : ''}`);
  const conformanceRuns = conformanceFigures.reduce((sum, figure) => sum + figure.runs, 0);
  const ok =
    uncaught.length === 0 &&
    conformanceRuns >= cases &&
    conformanceFigures.every((figure) => !figure.failed && !figure.interrupted) &&
    fuzzFigures.length === doors.length &&
    fuzzFigures.every((figure) => figure.failures === 0 && figure.malformed >= fuzzPerDoor && figure.answered4xx + figure.closedBeforeGarbage === figure.malformed && figure.servesAfter) &&
    (loadFaults?.failures.length ?? 0) === 0 &&
    (catalogueFuzz?.failures.length ?? 0) === 0;
  const report = { startedAt: started.toISOString(), seconds: (Date.now() - started.getTime()) / 1000, seed, requested: { cases, fuzzPerDoor, minutes, loadSeconds, rate }, conformance: conformanceFigures, fuzz: fuzzFigures, loadFaults, catalogueFuzz, uncaught, ok };
  const dir = join(repoRoot, 'reports');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `reliability-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`${ok ? 'PASSED' : 'FAILED'} in ${report.seconds.toFixed(0)} s; figures written to ${file}`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
