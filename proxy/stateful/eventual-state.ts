/**
 * Eventual state of job routes: two sides running the same job reach its states at their own
 * pace, so a status read during a race (legacy RUNNING, reimpl COMPLETED) is not a mismatch by
 * itself. This file knows the job state machine of the legacy plugins
 * (PENDING→RUNNING→COMPLETED|FAILED, PENDING→CANCELLED, RUNNING→CANCELLING→COMPLETED, the
 * legacy quirk, or CANCELLED with the reimplementation's declared cancel fix), tells a race from
 * a real difference, polls both sides to their terminal states when the route asks for it, and
 * otherwise turns a racing comparison into `ignored` with rule `eventual-state` — never matched.
 */
import type { Route } from '../../flags/route-catalogue.js';
import type { SideResult } from '../serving/capture.js';
import type { Comparison } from '../shadow/compare.js';

export type JobState = 'PENDING' | 'RUNNING' | 'CANCELLING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

/** The rule named by an observation that was not compared because the two sides were mid-race. */
export const eventualStateRule = 'eventual-state';

const next: Readonly<Record<JobState, readonly JobState[]>> = {
  PENDING: ['RUNNING', 'CANCELLED'],
  RUNNING: ['COMPLETED', 'FAILED', 'CANCELLING'],
  CANCELLING: ['COMPLETED', 'CANCELLED'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

const states = new Set<string>(Object.keys(next));

export function isJobState(value: unknown): value is JobState {
  return typeof value === 'string' && states.has(value);
}

export function isTerminal(state: JobState): boolean {
  return next[state].length === 0;
}

/** True when `to` can follow `from` in the state machine (in one or more steps). */
export function reachable(from: JobState, to: JobState): boolean {
  const seen = new Set<JobState>();
  const queue: JobState[] = [...next[from]];
  while (queue.length > 0) {
    const state = queue.shift()!;
    if (state === to) return true;
    if (seen.has(state)) continue;
    seen.add(state);
    queue.push(...next[state]);
  }
  return false;
}

// Legacy refuses results of an unfinished job with 400 "... is not completed (current status: RUNNING)".
const currentStatus = /current status: ([A-Z]+)/;

/** The job state an answer shows: `$.status` of a job body, or the state named by a "not completed" refusal. */
export function jobStateOf(result: SideResult): JobState | undefined {
  if (result.failure || result.truncated || result.body.length === 0) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(result.body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  if (isJobState(record.status)) return record.status;
  const detail = typeof record.detail === 'string' ? record.detail : undefined;
  const named = detail ? currentStatus.exec(detail)?.[1] : undefined;
  return isJobState(named) ? named : undefined;
}

// Both sides refuse the download of a job whose file is not written yet with this 404.
const fileNotYetWritten = /^Export file for GIS export job \S+ not found$/;

/**
 * The job state a download answer shows: its file served means COMPLETED; "Export file ... not
 * found" means not finished (yet, or ever). Calling the latter RUNNING makes a download read
 * while the other side's run is still going a race (polled, or ignored, never matched); a run
 * that really failed is still caught, by the job's own terminal status reads and the state
 * parity of its row.
 */
function downloadStateOf(route: Route, result: SideResult): JobState | undefined {
  if (!route.id.endsWith('.download') || result.failure) return undefined;
  // A served file is COMPLETED however much of it was captured: exports above the capture limit
  // (a county's GeoJSON is ~5 MB) are the usual case, and must still be seen racing a 404.
  if (result.status === 200) return 'COMPLETED';
  if (result.status !== 404 || result.truncated) return undefined;
  try {
    const body = JSON.parse(result.body.toString('utf8')) as { detail?: unknown };
    return typeof body.detail === 'string' && fileNotYetWritten.test(body.detail) ? 'RUNNING' : undefined;
  } catch {
    return undefined;
  }
}

/** The job state an answer of `route` shows: a job body's or refusal's, else a download's; undefined for any other answer. */
export function answerStateOf(route: Route, result: SideResult): JobState | undefined {
  return jobStateOf(result) ?? downloadStateOf(route, result);
}

/** A job route: one whose requests or answers carry a correlated job id. */
export function isJobRoute(route: Route): boolean {
  return (route.correlation?.length ?? 0) > 0;
}

export interface Race {
  serving: JobState;
  shadow: JobState;
}

/**
 * The race two answers of a job route show: different states, not both terminal, one
 * reachable from the other. Undefined when there is no race (same state, both terminal,
 * states no run of the job can connect, or not a job answer): those are compared as they are.
 */
export function raceBetween(route: Route, serving: SideResult, shadow: SideResult): Race | undefined {
  if (!isJobRoute(route)) return undefined;
  const a = answerStateOf(route, serving);
  const b = answerStateOf(route, shadow);
  if (!a || !b || a === b) return undefined;
  if (isTerminal(a) && isTerminal(b)) return undefined;
  if (!reachable(a, b) && !reachable(b, a)) return undefined;
  return { serving: a, shadow: b };
}

/** A racing comparison becomes `ignored` with rule `eventual-state` (each unexplained difference names it); any other is returned as is. */
export function settleEventualState(route: Route, serving: SideResult, shadow: SideResult, comparison: Comparison): Comparison {
  if (comparison.verdict !== 'mismatched' || !raceBetween(route, serving, shadow)) return comparison;
  const differences = comparison.differences.map((difference) =>
    difference.ignoredBy !== undefined || (difference as { correlated?: string }).correlated !== undefined ? difference : { ...difference, ignoredBy: eventualStateRule },
  );
  const rules = [...new Set(differences.map((difference) => difference.ignoredBy).filter((rule): rule is string => rule !== undefined))];
  return { verdict: 'ignored', ignoredBy: rules, erroredSide: undefined, differences };
}

/** How a route asks for polling: both sides are read again every `intervalMs` until both are terminal or `deadlineMs` passes. */
export interface PollRule {
  deadlineMs: number;
  intervalMs: number;
}

export interface Polled {
  serving: SideResult;
  shadow: SideResult;
  /** Rounds of reads made (each re-reads only the sides not yet terminal). */
  rounds: number;
  /** True when both sides reached a terminal state (or stopped showing a job state) before the deadline. */
  settled: boolean;
}

/** Which side of the exchange a poll reads again. */
export type PollTarget = 'serving' | 'shadow';

/**
 * Reads again (`readAgain`, a GET of the same job on that side) each side that does not yet show
 * a terminal state (as `route`'s answers show it: a download's file counts), until both do or the
 * deadline passes. A side already terminal is never read again: its answer cannot change, and a
 * served download is not fetched twice. Runs off the request path; the caller bounds how many
 * polls run at once and gives them their own connections (proxy/serving/upstreams.ts `forPoll`).
 */
export async function pollToTerminal(
  route: Route,
  readAgain: (target: PollTarget) => Promise<SideResult>,
  first: { serving: SideResult; shadow: SideResult },
  rule: PollRule,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
): Promise<Polled> {
  const deadline = Date.now() + rule.deadlineMs;
  const current = { ...first };
  let rounds = 0;
  const terminal = (result: SideResult) => {
    const state = answerStateOf(route, result);
    return state === undefined ? undefined : isTerminal(state);
  };
  // A side that shows no job state ends the poll: there is nothing left to wait for.
  const done = () => {
    const [a, b] = [terminal(current.serving), terminal(current.shadow)];
    return a === undefined || b === undefined || (a && b);
  };
  while (!done()) {
    if (Date.now() + rule.intervalMs > deadline) return { ...current, rounds, settled: false };
    await wait(rule.intervalMs);
    const targets = (['serving', 'shadow'] as const).filter((target) => !terminal(current[target]));
    const results = await Promise.all(targets.map(readAgain));
    targets.forEach((target, i) => (current[target] = results[i]!));
    rounds++;
  }
  return { ...current, rounds, settled: true };
}
