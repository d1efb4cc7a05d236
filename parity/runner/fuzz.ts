/**
 * Differential fuzzing (`cutover fuzz`): fast-check generates requests for a route, each is
 * sent to legacy and to the reimplementation at once (a job followed to its terminal state
 * and results), and the engine compares them. A request whose differences are not explained
 * (by a rule, calibrated noise or an accepted difference) fails the property; fast-check then
 * shrinks it to the smallest request that still differs the same way, within a budget, and
 * the counterexample is saved as a fixture. The run then goes on, with differences already
 * reported no longer failing, until the runs are spent or `maxCounterexamples` are found.
 */
import fc from 'fast-check';
import type { Route, RouteCatalogue } from '../../flags/route-catalogue.js';
import { loadAcceptedDifferences } from '../compare/accepted-registry.js';
import { routeNoise } from './calibrate-learn.js';
import type { FuzzCase, InputSpace } from './fuzz-arbitraries.js';
import { planRoute } from './fuzz-catalogue.js';
import { compareSides, mismatchLines, type CompareSources, type RequestComparison } from './fuzz-compare.js';
import { exchangeOnSide, type RunRequest, type SideExchanges, type SideTarget } from './fuzz-exchange.js';
import { writeCounterexample } from './fuzz-fixture.js';
import type { JobRows } from './fuzz-rows.js';
import type { RunProgress } from './progress.js';
import { CutoverError } from '../../src/errors.js';

export interface FuzzOptions {
  /** Any catalogued route: its requests come from its plan (fuzz-catalogue.ts). */
  routeId: string;
  runs: number;
  seed: number;
  /** A sync service's URL, or a side with a URL per service (and its gateway's logins). */
  legacyUrl: string | SideTarget;
  reimplUrl: string | SideTarget;
  catalogue: RouteCatalogue;
  space: InputSpace;
  /** Generate invalid requests too (default true). */
  invalid?: boolean;
  /** Stop after this many distinct counterexamples (default 3). */
  maxCounterexamples?: number;
  /** Property evaluations allowed while shrinking one counterexample (default 200). */
  shrinkBudget?: number;
  /** Where counterexamples are saved as fixtures (`<dir>/<route>/<shape>.json`); not saved when unset. */
  fixturesDir?: string;
  /** Noise and accepted differences; accepted ones default to parity/accepted-differences.yaml, noise to what each route's rules pin. */
  sources?: CompareSources;
  /** How long a created job may take to reach a terminal state, per side. */
  jobDeadlineMs?: number;
  /** When given, each created job's row is read back and compared too (side effects, not only answers). */
  rows?: JobRows;
  progress?: RunProgress;
  /** Passwords of the users gateway routes log in as (config fixtures.replayPasswords; default the demo users). */
  passwords?: Readonly<Record<string, string>>;
}

export interface Counterexample {
  routeId: string;
  family: string;
  fuzzCase: FuzzCase;
  request: RunRequest;
  /** The differences that remain unexplained, `part path (kind): legacy … / reimpl …`. */
  mismatches: string[];
  verdict: RequestComparison['verdict'];
  /** Requests tried while shrinking. */
  shrinkSteps: number;
  /** The case as first found, before shrinking. */
  original: FuzzCase;
  fixtureFile?: string;
}

export interface FuzzResult {
  routeId: string;
  seed: number;
  runs: number;
  /** Per verdict (and `known`: a difference already reported); `ignored` is never counted as matched. */
  counts: Record<string, number>;
  /** The rules that ignored or settled differences in the runs, with how many runs each: ignored by a route rule, or raced. */
  explainedBy: Record<string, number>;
  /** What the route's plan drew from. */
  inputs: readonly string[];
  counterexamples: Counterexample[];
}

/** What makes two failures "the same difference": the parts, paths and kinds that mismatch (or which side errored). */
function signatureOf(result: RequestComparison): string {
  const lines = result.parts.flatMap((part) => {
    if (part.comparison.verdict === 'errored') return [`${part.part} errored ${part.comparison.erroredSide}`];
    return part.comparison.differences.filter((d) => d.disposition.as === 'mismatch').map((d) => `${part.part} ${d.path.replace(/\[\d+\]/g, '[*]')} ${d.kind}`);
  });
  return [...new Set(lines)].sort().join('; ');
}

/** The rules that explained a run's differences without a mismatch: `ignored <rule>` or `raced <rule>`. */
function explainingRules(result: RequestComparison): string[] {
  const rules = result.parts.flatMap((part) => part.comparison.differences.flatMap((d) => (d.disposition.as === 'ignored'
    ? [`ignored ${d.disposition.rule}`] : d.disposition.as === 'raced' ? [`raced ${d.disposition.rule}`] : [])));
  return [...new Set(rules)];
}

/** Runs one request on both sides at once and compares. */
export async function differential(
  route: Route,
  catalogue: RouteCatalogue,
  request: RunRequest,
  urls: { legacy: string | SideTarget; reimpl: string | SideTarget },
  sources?: CompareSources,
  jobDeadlineMs?: number,
  rows?: JobRows,
): Promise<{ legacy: SideExchanges; reimpl: SideExchanges; result: RequestComparison; retried?: string }> {
  let [legacy, reimpl] = await Promise.all([
    exchangeOnSide(urls.legacy, request, route, catalogue, jobDeadlineMs),
    exchangeOnSide(urls.reimpl, request, route, catalogue, jobDeadlineMs),
  ]);
  // Legacy's gateway reuses a keep-alive connection to its sync that uvicorn closed after an
  // unhandled exception (a 500) without saying so; the next request on it, any request, is
  // reset and answered 503 "SyncService is not available". Which request meets it is timing,
  // not behaviour: the request is sent again, once, on both sides, and the retry is counted.
  let retried: string | undefined;
  const lost = lostLegacyHop(legacy) ? legacyHopRule : lostLegacyConnection(legacy) ? legacyClosedRule : undefined;
  if (lost) {
    retried = lost;
    [legacy, reimpl] = await Promise.all([
      exchangeOnSide(urls.legacy, request, route, catalogue, jobDeadlineMs),
      exchangeOnSide(urls.reimpl, request, route, catalogue, jobDeadlineMs),
    ]);
  }
  if (rows && legacy.jobId && reimpl.jobId) {
    [legacy.row, reimpl.row] = await Promise.all([rows.read(route, legacy.jobId, legacy.answer.window?.jobAskedAt), rows.read(route, reimpl.jobId, reimpl.answer.window?.jobAskedAt)]);
  }
  return { legacy, reimpl, result: await compareSides(route, catalogue, legacy, reimpl, sources), ...(retried ? { retried } : {}) };
}

/** The rule named when a request was sent again because legacy's gateway lost its connection to its sync. */
export const legacyHopRule = 'legacy-sync-connection-reset';

/**
 * The rule named when a request was sent again because legacy closed the fuzzer's own kept-alive
 * connection after an unhandled exception: Starlette answers the 500 (without `Connection:
 * close`), re-raises, and uvicorn then closes the connection, so the next request on it, any
 * request, fails before an answer (UND_ERR_SOCKET, "other side closed"). Found by the
 * reliability run's catalogue fuzz (seed 986449433): `LIMIT must not be negative` 500s on the
 * market-analysis lists, then a reset on the next market-analysis request.
 */
export const legacyClosedRule = 'legacy-connection-closed-after-500';

/** Whether one of legacy's own exchanges failed on a connection legacy had closed (never a reimplementation's: that would be its bug). */
function lostLegacyConnection(side: SideExchanges): boolean {
  return [side.setup?.answer, side.answer, side.terminal, side.results].some((exchange) => exchange?.failure?.code === 'UND_ERR_SOCKET');
}

/** Whether one of the side's answers is its gateway's "SyncService is not available" (its sync hop failed). */
function lostLegacyHop(side: SideExchanges): boolean {
  return [side.setup?.answer, side.answer, side.terminal, side.results].some((exchange) => exchange?.status === 503
    && exchange.body.toString('utf8').includes('"error":"SyncService is not available"'));
}

export async function fuzzRoute(options: FuzzOptions): Promise<FuzzResult> {
  const route = options.catalogue.byId(options.routeId);
  const registry = options.sources?.accepted ? undefined : loadAcceptedDifferences();
  // Without calibrated noise, a route's pinned noise (routes.yaml) still applies, as the proxy applies it.
  const pinned = (id: string) => routeNoise(id, undefined, options.catalogue.byId(id)?.compare);
  const sources: CompareSources = { ...options.sources, accepted: options.sources?.accepted ?? ((id) => registry!.forRoute(id)), noise: options.sources?.noise ?? pinned };
  options = { ...options, sources };
  if (!route) throw new CutoverError('CUTOVER_ERR_FUZZ_ROUTE_UNSUPPORTED', `no route ${options.routeId} in the catalogue`);
  const plan = planRoute(route, options.catalogue, options.space, { invalid: options.invalid ?? true, ...(options.passwords ? { passwords: options.passwords } : {}) });
  const arbitrary = plan.cases;
  const toRequest = (_routeId: string, fuzzCase: FuzzCase) => plan.request(fuzzCase);
  const explainedBy: Record<string, number> = {};
  const known = new Set<string>();
  const counts: Record<string, number> = {};
  const counterexamples: Counterexample[] = [];
  const budget = options.shrinkBudget ?? 200;
  const max = options.maxCounterexamples ?? 3;
  let remaining = options.runs;
  let round = 0;
  let runIndex = 0;

  while (remaining > 0 && counterexamples.length < max) {
    let shrinking = false;
    let shrinkSteps = 0;
    let found: { signature: string; fuzzCase: FuzzCase; result: RequestComparison; last?: { fuzzCase: FuzzCase; result: RequestComparison } } | undefined;
    const property = fc.asyncProperty(arbitrary, async (fuzzCase) => {
      if (shrinking && shrinkSteps >= budget) return true;
      const request = toRequest(options.routeId, fuzzCase);
      const { result, retried } = await differential(route, options.catalogue, request, { legacy: options.legacyUrl, reimpl: options.reimplUrl }, options.sources, options.jobDeadlineMs, options.rows);
      if (retried && !shrinking) explainedBy[`retried ${retried}`] = (explainedBy[`retried ${retried}`] ?? 0) + 1;
      const signature = signatureOf(result);
      const failing = (result.verdict === 'mismatched' || result.verdict === 'errored') && !known.has(signature);
      if (shrinking) {
        shrinkSteps += 1;
        // Shrink towards the same difference, not towards any difference.
        if (failing && signature === found!.signature) {
          found!.last = { fuzzCase, result };
          return false;
        }
        return true;
      }
      runIndex += 1;
      for (const rule of explainingRules(result)) explainedBy[rule] = (explainedBy[rule] ?? 0) + 1;
      const outcome = failing ? result.verdict : known.has(signature) && signature ? 'known' : result.verdict;
      counts[outcome] = (counts[outcome] ?? 0) + 1;
      options.progress?.item({
        id: `${options.routeId} run ${runIndex} (${fuzzCase.family})`,
        outcome: outcome === 'known' ? 'mismatched' : outcome,
        ...(failing || outcome === 'known' ? { detail: mismatchLines(result)[0] ?? signature } : {}),
      });
      if (failing) {
        shrinking = true;
        found = { signature, fuzzCase, result };
        options.progress?.note(`${options.routeId}: difference found (${signature}); shrinking...`);
        return false;
      }
      return true;
    });
    const details = await fc.check(property, { numRuns: remaining, seed: options.seed + round, endOnFailure: false });
    remaining -= Math.max(details.numRuns, 1);
    round += 1;
    if (!found) break;
    known.add(found.signature);
    const smallest = found.last ?? { fuzzCase: found.fuzzCase, result: found.result };
    const counterexample: Counterexample = {
      routeId: options.routeId,
      family: smallest.fuzzCase.family,
      fuzzCase: smallest.fuzzCase,
      request: toRequest(options.routeId, smallest.fuzzCase),
      mismatches: mismatchLines(smallest.result),
      verdict: smallest.result.verdict,
      shrinkSteps,
      original: found.fuzzCase,
    };
    if (options.fixturesDir) counterexample.fixtureFile = await saveCounterexample(options.fixturesDir, route, counterexample, options);
    counterexamples.push(counterexample);
    options.progress?.note(`${options.routeId}: shrunk in ${shrinkSteps} steps to ${counterexample.request.body?.slice(0, 300)}`);
  }
  return { routeId: options.routeId, seed: options.seed, runs: runIndex, counts, explainedBy, inputs: plan.inputs, counterexamples };
}

/** Sends the shrunk request once more, so the fixture holds real answers to exactly this request, and writes it. */
async function saveCounterexample(dir: string, route: Route, counterexample: Counterexample, options: FuzzOptions): Promise<string> {
  const { legacy, reimpl } = await differential(route, options.catalogue, counterexample.request, { legacy: options.legacyUrl, reimpl: options.reimplUrl }, options.sources, options.jobDeadlineMs, options.rows);
  return writeCounterexample(dir, {
    route, request: counterexample.request, legacy, reimpl,
    fuzz: { seed: options.seed, family: counterexample.family, shrinkSteps: counterexample.shrinkSteps, mismatches: counterexample.mismatches },
  });
}
