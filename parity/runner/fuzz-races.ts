/**
 * The races a differential run meets when each side's job moves at its own pace, and the rule
 * that settles each without hiding a real difference. A raced difference is disposed `raced`
 * (a match, with the rule and both sides' states) only when each side, on its own, answered
 * exactly what the legacy contract prescribes for the state its own job was in; anything else
 * stays a mismatch.
 *
 * - `cancel-race`: a cancel sent while the job it acts on may be PENDING, RUNNING or finished
 *   (contract §1 and §1b.D). Each side's answer must be a legal cancel answer (the status,
 *   message or refusal text of one state), its other fields those of its own job as its create
 *   answered them, its job's terminal status reachable from the state its answer shows, and its
 *   results those of that terminal status.
 * - `list-race`: a list read while this request's own jobs are in flight. Both sides read one
 *   table: records are paired by id; one listed by one side only must be a job the request made
 *   (or one pushed past a full page); the others keep their order and fields but a state one
 *   side saw later (one reachable from the other, each with its state's message).
 */
import { isJobState, reachable, type JobState } from '../../proxy/stateful/eventual-state.js';
import type { Comparison, DisposedDifference, Exchange, Verdict } from '../compare/engine.js';
import type { PartComparison } from './fuzz-compare.js';
import type { SideExchanges } from './fuzz-exchange.js';

export const cancelRaceRule = 'cancel-race';
export const listRaceRule = 'list-race';

/** The fields a job's state moves; every other field of a job stays as it was created. */
const statePaths = new Set(['status', 'message', 'updated_at', 'started_at', 'completed_at']);

/** The messages legacy gives each state (contract §1 job state machine, §1b.D, §1b.B), by plugin. */
const stateMessages: ReadonlyArray<{ pathPart: string; messages: Partial<Record<JobState, readonly (string | RegExp)[]>> }> = [
  {
    pathPart: '/gis-export/',
    messages: {
      PENDING: ['Job created and pending processing'],
      RUNNING: ['Job processing started'],
      COMPLETED: ['Export completed successfully'],
      FAILED: [/^Export failed: /],
      CANCELLED: ['Job cancelled before processing started', 'Job cancelled during processing'],
      CANCELLING: ['Job cancellation requested'],
    },
  },
  {
    pathPart: '/market-analysis/',
    messages: {
      PENDING: ['Job created and queued for processing'],
      RUNNING: ['Job is being processed'],
      COMPLETED: ['Job completed successfully'],
      FAILED: [/^Error: /],
      CANCELLED: ['Job cancelled by user'],
    },
  },
];

function json(exchange: Exchange | undefined): Record<string, unknown> | undefined {
  if (!exchange || exchange.failure || exchange.body.length === 0) return undefined;
  try {
    const value = JSON.parse(exchange.body.toString('utf8')) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function messageFits(routePath: string, state: JobState, message: unknown): boolean {
  const table = stateMessages.find((entry) => routePath.includes(entry.pathPart));
  const allowed = table?.messages[state];
  if (!allowed) return false;
  return typeof message === 'string' && allowed.some((pattern) => (typeof pattern === 'string' ? pattern === message : pattern.test(message)));
}

/** What a cancel answer says the job was: cancelled, cancelling, refused because already in a state, or not a cancel answer at all. */
type CancelClass = { kind: 'applied'; state: JobState } | { kind: 'refused'; state?: JobState };

function cancelClass(routePath: string, answer: Exchange, created: Record<string, unknown> | undefined): CancelClass | undefined {
  const body = json(answer);
  if (!body) return undefined;
  if (answer.status === 400 && typeof body.detail === 'string') {
    const already = /^Cannot cancel job that is already ([A-Z]+)$/.exec(body.detail)?.[1];
    if (already !== undefined) return isJobState(already) ? { kind: 'refused', state: already } : undefined;
    return body.detail === 'Job cannot be cancelled. It may be completed, failed, or not found.' ? { kind: 'refused' } : undefined;
  }
  if (answer.status !== 200) return undefined;
  // /plugins/market-analysis answers {"status":"cancelled","job_id"} and nothing else.
  if (body.status === 'cancelled') {
    return Object.keys(body).sort().join() === 'job_id,status' && body.job_id === created?.job_id ? { kind: 'applied', state: 'CANCELLED' } : undefined;
  }
  if (!isJobState(body.status) || !messageFits(routePath, body.status, body.message) || !created) return undefined;
  // Every field a state does not move is the job's own, as its create answered it.
  for (const key of new Set([...Object.keys(body), ...Object.keys(created)])) {
    if (statePaths.has(key)) continue;
    if (JSON.stringify(body[key]) !== JSON.stringify(created[key])) return undefined;
  }
  return { kind: 'applied', state: body.status };
}

/** The state a job ended in, by its terminal status read. */
function terminalState(side: SideExchanges): JobState | undefined {
  const state = json(side.terminal)?.status;
  return isJobState(state) ? state : undefined;
}

/** Reachable in legacy's job machine, and a job asked to cancel while running may still fail (its worker's failure is written unconditionally). */
function follows(from: JobState, to: JobState): boolean {
  return from === to || reachable(from, to) || (from === 'CANCELLING' && to === 'FAILED');
}

/** Whether a side's terminal state and results are those its own cancel answer leads to. */
function sideFollows(routePath: string, side: SideExchanges, answered: CancelClass): boolean {
  const end = terminalState(side);
  if (!end) return false;
  const terminal = json(side.terminal)!;
  if (!messageFits(routePath, end, terminal.message) && !(end === 'COMPLETED' && terminal.message === undefined)) return false;
  if (answered.kind === 'applied' && !follows(answered.state, end)) return false;
  if (answered.kind === 'refused' && answered.state !== undefined && !follows(answered.state, end)) return false;
  if (answered.kind === 'refused' && answered.state === undefined && end !== 'COMPLETED' && end !== 'FAILED') return false;
  // Results: a completed job's, else the refusal naming the state it ended in.
  const results = side.results;
  if (!results) return true;
  if (end === 'COMPLETED') return results.status === 200;
  const refusal = json(results);
  const detail = typeof refusal?.detail === 'string' ? refusal.detail : '';
  return results.status === 400 && (detail.endsWith(`(current status: ${end})`) || detail.endsWith(`Current status: ${end}`));
}

function rejudge(comparison: Comparison, differences: DisposedDifference[]): Comparison {
  const ignoredBy = [...new Set(differences.flatMap((d) => (d.disposition.as === 'ignored' ? [d.disposition.rule] : [])))];
  const verdict: Verdict = comparison.erroredSide ? 'errored'
    : differences.some((d) => d.disposition.as === 'mismatch') ? 'mismatched'
      : ignoredBy.length > 0 ? 'ignored' : 'matched';
  return { ...comparison, differences, ignoredBy, verdict };
}

/**
 * Disposes as raced the mismatches a race rule explains, and the differences a rule had only
 * ignored (a uuid without a correlation) when the race rule compared what they stood for.
 */
function raced(part: PartComparison, rule: string, detail: string, covers: (difference: DisposedDifference) => boolean, ignoredToo = false): PartComparison {
  const differences = part.comparison.differences.map((difference) => ((difference.disposition.as === 'mismatch' || (ignoredToo && difference.disposition.as === 'ignored')) && covers(difference)
    ? { ...difference, disposition: { as: 'raced' as const, rule, detail } }
    : difference));
  return { ...part, comparison: rejudge(part.comparison, differences) };
}

/** The cancel race: applies to a cancel whose setup job was not waited for. */
function settleCancel(routePath: string, parts: PartComparison[], legacy: SideExchanges, reimpl: SideExchanges): PartComparison[] {
  if (!legacy.setup || !reimpl.setup) return parts;
  const classes = [legacy, reimpl].map((side) => cancelClass(routePath, side.answer, json(side.setup!.answer)));
  const [a, b] = classes;
  if (!a || !b) return parts;
  if (!sideFollows(routePath, legacy, a) || !sideFollows(routePath, reimpl, b)) return parts;
  const describe = (c: CancelClass) => (c.kind === 'applied' ? c.state : `refused ${c.state ?? 'finished'}`);
  const detail = `legacy ${describe(a)} → ${terminalState(legacy)}, reimpl ${describe(b)} → ${terminalState(reimpl)}`;
  const sameAnswer = describe(a) === describe(b);
  const sameEnd = terminalState(legacy) === terminalState(reimpl);
  const stateless = json(legacy.answer)?.status === 'cancelled' && json(reimpl.answer)?.status === 'cancelled';
  return parts.map((part) => {
    // Two sides that answered alike are compared as they are: no race to settle there.
    if (part.part === 'answer' && !sameAnswer) return raced(part, cancelRaceRule, detail, () => true);
    // Where each job was when the cancel came shows in its state fields (started_at set or not):
    // a race when the answers or ends differ, or when the answer names no state (/plugins/market-analysis's {"status":"cancelled"}).
    if ((part.part === 'terminal' || part.part === 'row') && (!sameEnd || !sameAnswer || stateless)) return raced(part, cancelRaceRule, detail, (d) => isStatePath(d.path));
    if (part.part === 'results' && !sameEnd) return raced(part, cancelRaceRule, detail, () => true);
    return part;
  });
}

function isStatePath(path: string): boolean {
  const key = /^\$(?:\[\d+\]|\.[a-z]+\[\d+\])?\.([a-z_]+)$/.exec(path)?.[1];
  return key !== undefined && statePaths.has(key);
}

/** A list answer's items and the count it states, when it is a list of records: `[...]`, `{jobs, count}` or `{items, count}`. */
function listOf(exchange: Exchange): { items: Array<Record<string, unknown>>; count?: unknown } | undefined {
  try {
    const value = JSON.parse(exchange.body.toString('utf8')) as unknown;
    const record = value as Record<string, unknown> | null;
    const list = Array.isArray(value) ? value : record?.jobs ?? record?.items;
    if (!Array.isArray(list) || !list.every((item) => item !== null && typeof item === 'object')) return undefined;
    return { items: list as Array<Record<string, unknown>>, ...(Array.isArray(value) ? {} : { count: record!.count }) };
  } catch {
    return undefined;
  }
}

const idOf = (item: Record<string, unknown>) => (typeof item.job_id === 'string' ? item.job_id : typeof item.report_id === 'string' ? item.report_id : undefined);

/**
 * Why two lists read while this request's own jobs were in flight are not the same, or
 * undefined when the race explains it all: both read one table, so a record either side lists
 * is the same record; one only one side lists must be a job this request's setups made (the
 * other side read before it existed) or one a new job pushed past the page's end; the records
 * both list keep their order and every field, but a state one of them reached later.
 */
function unexplainedListDifference(routePath: string, legacy: SideExchanges, reimpl: SideExchanges): string | undefined {
  const left = listOf(legacy.answer);
  const right = listOf(reimpl.answer);
  if (!left || !right || legacy.answer.status !== 200 || reimpl.answer.status !== 200) return 'not two lists';
  const made = new Set([...legacy.createdIds, ...reimpl.createdIds]);
  for (const side of [left, right]) {
    if (side.count !== undefined && side.count !== side.items.length) return `count ${String(side.count)} is not the ${side.items.length} items listed`;
  }
  const byId = (items: Array<Record<string, unknown>>) => new Map(items.flatMap((item) => (idOf(item) ? [[idOf(item)!, item] as const] : [])));
  const a = byId(left.items);
  const b = byId(right.items);
  if (a.size !== left.items.length || b.size !== right.items.length) return 'an item without an id';
  for (const [list, other, name] of [[left.items, b, 'legacy'], [right.items, a, 'reimpl']] as const) {
    list.forEach((item, index) => {
      const id = idOf(item)!;
      if (other.has(id) || made.has(id)) return;
      // A new job first in one list pushes the last out of a full page: two pages of one length.
      if (left.items.length !== right.items.length || index < list.length - made.size) throw new Error(`${name} alone lists ${id}, which this request did not make`);
    });
  }
  const common = (list: Array<Record<string, unknown>>, other: Map<string, unknown>) => list.map(idOf).filter((id) => other.has(id!));
  if (JSON.stringify(common(left.items, b)) !== JSON.stringify(common(right.items, a))) return 'the records both list are in another order';
  for (const [id, x] of a) {
    const y = b.get(id);
    if (!y) continue;
    for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
      if (JSON.stringify(x[key]) === JSON.stringify(y[key])) continue;
      if (!statePaths.has(key)) return `${id}: ${key} differs`;
    }
    if (x.status === y.status) {
      if (JSON.stringify(x) !== JSON.stringify(y)) return `${id}: one state ${String(x.status)}, other fields differ`;
      continue;
    }
    if (!isJobState(x.status) || !isJobState(y.status) || !(reachable(x.status, y.status) || reachable(y.status, x.status))) return `${id}: ${String(x.status)} and ${String(y.status)} are not one job's states`;
    if (!messageFits(routePath, x.status, x.message) || !messageFits(routePath, y.status, y.message)) return `${id}: a message is not its state's`;
  }
  return undefined;
}

/** The list race: only a request that made jobs first (left in flight) can meet it. */
function settleList(routePath: string, part: PartComparison, legacy: SideExchanges, reimpl: SideExchanges): PartComparison {
  if (legacy.createdIds.length === 0 && reimpl.createdIds.length === 0) return part;
  let why: string | undefined;
  try {
    why = unexplainedListDifference(routePath, legacy, reimpl);
  } catch (error) {
    why = (error as Error).message;
  }
  if (why !== undefined) {
    // Say why the race did not explain it: the mismatch stands, with the reason beside it.
    const differences = part.comparison.differences.map((d, i) => (i === part.comparison.differences.findIndex((x) => x.disposition.as === 'mismatch')
      ? { ...d, detail: `${d.detail ? `${d.detail}; ` : ''}${listRaceRule} does not explain it: ${why}` } : d));
    return { ...part, comparison: { ...part.comparison, differences } };
  }
  // The records were compared by id above: the position-wise differences, ids included, are the race's.
  return raced(part, listRaceRule, `listed while jobs ${[...legacy.createdIds, ...reimpl.createdIds].join(', ')} were in flight`, () => true, true);
}

/** Settles the races of one request's comparison (route path: which plugin's state messages apply). */
export function settleRaces(
  route: { id: string; path: string },
  parts: PartComparison[],
  legacy: SideExchanges,
  reimpl: SideExchanges,
): PartComparison[] {
  if (parts.every((part) => part.comparison.verdict === 'matched' || part.comparison.verdict === 'errored')) return parts;
  if (/\.cancel$/.test(route.id)) return settleCancel(route.path, parts, legacy, reimpl);
  if (/\.list$/.test(route.id)) return parts.map((part) => (part.part === 'answer' ? settleList(route.path, part, legacy, reimpl) : part));
  return parts;
}
