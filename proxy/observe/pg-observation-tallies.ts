/**
 * ObservationTallies in SQL (observation-tallies.ts says what they are; `talliesOf` is the direct
 * computation these must equal). Four passes over the window's day partitions: the counts (one
 * hash aggregate over every combination of verdict, mode, statuses, errors, rules and hour, which
 * stays small), the latency samples counted per distinct value (nearest-rank percentiles, the
 * fixed buckets, the ranks of the pooled samples for Mann-Whitney, all from cumulative counts), the accepted differences and the
 * mismatch paths (only mismatched rows read whole; one example per path). Nothing per observation
 * crosses the wire.
 */
import type pg from 'pg';
import type { FlagMode } from '../../flags/flag.js';
import type { Side } from '../serving/decide.js';
import type { Verdict } from '../shadow/compare.js';
import {
  compareMismatchPaths,
  compareReimplServing,
  compareSides,
  countReimplServing,
  servedByReimpl,
  latencyBucketsMs,
  type LatencyComparison,
  type LatencyStats,
  type MismatchPathTally,
  type ObservationTallies,
  type ParityHour,
  type RouteTally,
  type SideOutcomeCount,
  type TallyQuery,
} from './observation-tallies.js';

interface CountRow {
  route_id: string;
  verdict: Verdict;
  mode: FlagMode;
  errored_side: 'serving' | 'shadow' | 'both' | null;
  serving_side: Side;
  serving_status: number | null;
  serving_error: string | null;
  shadow_side: Side;
  shadow_status: number | null;
  shadow_error: string | null;
  ignored_by: string[];
  /** The UTC hour's start: binned in SQL, formatted here (a million to_char calls cost more than the grouping). */
  hour: Date;
  n: number;
  first: Date;
}

type Basis = 'copies' | 'split';

const bucketCase = `CASE ${latencyBucketsMs.map((bound, index) => `WHEN v <= ${bound} THEN ${index}`).join(' ')} ELSE ${latencyBucketsMs.length} END`;
const fold = (json: string) => `regexp_replace(${json}->>'path', '\\[\\d+\\]', '[*]', 'g')`;

function windowOf(query: TallyQuery, alias = ''): { where: string; values: unknown[] } {
  const where: string[] = ['true'];
  const values: unknown[] = [];
  if (query.since !== undefined) where.push(`${alias}observed_at >= $${values.push(query.since)}`);
  if (query.routeIds !== undefined) where.push(`${alias}route_id = ANY($${values.push([...query.routeIds])}::text[])`);
  return { where: where.join(' AND '), values };
}

const emptyStats = (): LatencyStats => ({ count: 0, p50: null, p95: null, p99: null });
const emptyComparison = (): LatencyComparison => ({ legacy: emptyStats(), reimpl: emptyStats(), reimplRankSum: 0, tieTerm: 0 });

/** What the passes need of a connection: the tallies run on one client, in one snapshot. */
type Queryable = Pick<pg.PoolClient, 'query'>;

async function counts(pool: Queryable, query: TallyQuery): Promise<CountRow[]> {
  const { where, values } = windowOf(query);
  const result = await pool.query<CountRow>(
    `SELECT route_id, verdict, mode, errored_side, serving_side, serving_status, serving_error, shadow_side, shadow_status, shadow_error, ignored_by,
            date_bin('1 hour', observed_at, timestamptz '2000-01-01 00:00:00+00') AS hour,
            count(*)::int AS n, min(observed_at) AS first
     FROM cutover.observations WHERE ${where}
     GROUP BY route_id, verdict, mode, errored_side, serving_side, serving_status, serving_error, shadow_side, shadow_status, shadow_error, ignored_by, 12`,
    values,
  );
  return result.rows;
}

interface LatencyResultRow {
  kind: 'summary' | 'bucket';
  route_id: string;
  basis: 'all' | Basis;
  bucket: number | null;
  legacy_n: number;
  reimpl_n: number;
  legacy_p: Array<number | null> | null;
  reimpl_p: Array<number | null> | null;
  rank_sum2: number | null;
  tie_term: number | null;
}

/** Nearest rank, as gate/statistics/percentile.ts and percentile_disc take it (float8 arithmetic, so the same rank for every count). */
const nearestRank = (fraction: string, cumulative: string, total: string, only: string) => `min(v) FILTER (WHERE ${only}${cumulative} >= greatest(1, ceil(${fraction}::float8 * ${total}::float8)))`;
const percentilesOf = (cumulative: string, total: string, only = '') => `ARRAY[${['0.5', '0.95', '0.99'].map((fraction) => nearestRank(fraction, cumulative, total, only)).join(', ')}]`;

async function latencies(pool: Queryable, query: TallyQuery): Promise<LatencyResultRow[]> {
  const { where, values } = windowOf(query);
  // Every answered side once, with its basis for the gate (copies: both answered outside a canary;
  // split: a canary's serving answer), counted per distinct value: the sort then runs over the
  // distinct latencies, not the samples (latencies are stored to the microsecond, so there are few).
  // One window over a route's values in order gives every basis its cumulative counts at once
  // (FILTER per basis; 'all' counts every row, so a value's rows of all bases are peers of one
  // another), and from them come the nearest-rank percentiles, the ranks of the pooled sample
  // (ties their mean rank; twice the rank sum stays whole) and the tie term. Counts are float8,
  // exact below 2^53 and much cheaper to sum in a window than numeric. Route ids group and sort
  // byte-wise (COLLATE "C"): a locale's comparison of the same prefix costs more than the sort's
  // arithmetic. 'all' needs no rank sum (the gate compares copies and splits), so it has none.
  const cumulative = (basis: 'all' | Basis) => {
    const only = basis === 'all' ? '' : ` FILTER (WHERE basis = '${basis}')`;
    return `sum(l)${only} OVER upto AS cl_${basis}, sum(r)${only} OVER upto AS cr_${basis}, sum(l)${only} OVER whole AS tl_${basis}, sum(r)${only} OVER whole AS tr_${basis}`;
  };
  const summary = (basis: 'all' | Basis) => {
    const mine = basis === 'all' ? '' : `basis = '${basis}' AND `;
    const ranks = basis === 'all'
      ? 'NULL::float8, NULL::float8'
      : `sum(r * (2 * (cl_${basis} + cr_${basis} - l - r) + l + r + 1)) FILTER (WHERE basis = '${basis}'), sum((l + r) * (l + r) * (l + r) - (l + r)) FILTER (WHERE basis = '${basis}')`;
    return `ROW(max(tl_${basis})::int, max(tr_${basis})::int, ${percentilesOf(`cl_${basis}`, `tl_${basis}`, mine)}, ${percentilesOf(`cr_${basis}`, `tr_${basis}`, mine)}, ${ranks})`;
  };
  const result = await pool.query<LatencyResultRow>(
    `WITH s AS (
       SELECT route_id COLLATE "C" AS route_id, serving_side AS side, serving_latency_ms AS v,
              CASE WHEN mode = 'canary' THEN 'split' WHEN shadow_error IS NULL AND shadow_status IS NOT NULL THEN 'copies' ELSE 'none' END AS basis
       FROM cutover.observations WHERE ${where} AND serving_error IS NULL AND serving_status IS NOT NULL
       UNION ALL
       SELECT route_id COLLATE "C", shadow_side, shadow_latency_ms,
              CASE WHEN mode <> 'canary' AND serving_error IS NULL AND serving_status IS NOT NULL THEN 'copies' ELSE 'none' END
       FROM cutover.observations WHERE ${where} AND shadow_error IS NULL AND shadow_status IS NOT NULL),
     h AS MATERIALIZED (
       SELECT route_id, basis, v, (count(*) FILTER (WHERE side = 'legacy'))::float8 AS l, (count(*) FILTER (WHERE side = 'reimpl'))::float8 AS r
       FROM s GROUP BY route_id, basis, v),
     w AS (
       SELECT route_id, basis, v, l, r, ${cumulative('all')}, ${cumulative('copies')}, ${cumulative('split')}
       FROM h WINDOW whole AS (PARTITION BY route_id), upto AS (PARTITION BY route_id ORDER BY v)),
     g AS (
       SELECT route_id, ${summary('all')} AS a, ${summary('copies')} AS c, ${summary('split')} AS p FROM w GROUP BY route_id)
     SELECT 'summary' AS kind, g.route_id, x.basis, NULL::int AS bucket, x.legacy_n, x.reimpl_n, x.legacy_p, x.reimpl_p, x.rank_sum2, x.tie_term
     FROM g CROSS JOIN LATERAL (SELECT 'all', (g.a).* UNION ALL SELECT 'copies', (g.c).* UNION ALL SELECT 'split', (g.p).*)
       AS x(basis, legacy_n, reimpl_n, legacy_p, reimpl_p, rank_sum2, tie_term)
     WHERE x.legacy_n IS NOT NULL
     UNION ALL
     SELECT 'bucket', route_id, 'all', ${bucketCase}, sum(l)::int, sum(r)::int, NULL, NULL, NULL, NULL FROM h GROUP BY route_id, 4`,
    values,
  );
  return result.rows;
}

async function acceptedDifferences(pool: Queryable, query: TallyQuery): Promise<Array<{ route_id: string; id: string; path: string | null; n: number }>> {
  const { where, values } = windowOf(query, 'o.');
  const result = await pool.query<{ route_id: string; id: string; path: string | null; n: number }>(
    `SELECT route_id, id, path, count(DISTINCT oid)::int AS n FROM (
       SELECT o.route_id, o.id AS oid, d->'disposition'->>'id' AS id, ${fold('d')} AS path
       FROM cutover.observations o CROSS JOIN LATERAL jsonb_array_elements(o.differences) d
       WHERE ${where} AND o.differences @> '[{"disposition": {"as": "accepted"}}]' AND d->'disposition'->>'as' = 'accepted') a
     GROUP BY GROUPING SETS ((route_id, id), (route_id, id, path))`,
    values,
  );
  return result.rows;
}

async function mismatchPaths(pool: Queryable, query: TallyQuery): Promise<Array<{ route_id: string; folded: string; n: number; observed_at: Date; request_path: string; path: string; serving: string | null; shadow: string | null }>> {
  const { where, values } = windowOf(query, 'o.');
  // As talliesOf: a difference ignored by a rule, or disposed of other than as a mismatch, is not why it mismatched.
  const result = await pool.query(
    `WITH m AS (
       SELECT o.route_id, o.id AS oid, o.observed_at, o.path AS request_path, d.ord, d.value AS d, ${fold('d.value')} AS folded
       FROM cutover.observations o CROSS JOIN LATERAL jsonb_array_elements(o.differences) WITH ORDINALITY AS d(value, ord)
       WHERE ${where} AND o.verdict = 'mismatched'
         AND coalesce(d.value->>'ignoredBy', '') = ''
         AND (jsonb_typeof(d.value->'disposition') IS DISTINCT FROM 'object' OR d.value->'disposition'->>'as' = 'mismatch'))
     SELECT c.route_id, c.folded, c.n, e.observed_at, e.request_path, e.path, e.serving, e.shadow
     FROM (SELECT route_id, folded, count(DISTINCT oid)::int AS n FROM m GROUP BY route_id, folded) c
     JOIN (SELECT DISTINCT ON (route_id, folded) route_id, folded, observed_at, request_path, d->>'path' AS path, d->>'serving' AS serving, d->>'shadow' AS shadow
           FROM m ORDER BY route_id, folded, observed_at DESC, oid DESC, ord) e USING (route_id, folded)`,
    values,
  );
  return result.rows;
}

async function newest(pool: Queryable, routeIds: readonly string[], query: TallyQuery): Promise<Map<string, { service: string; method: string }>> {
  if (routeIds.length === 0) return new Map();
  const values: unknown[] = [[...routeIds]];
  const since = query.since === undefined ? '' : `AND o.observed_at >= $${values.push(query.since)}`;
  const result = await pool.query<{ route_id: string; service: string; method: string }>(
    `SELECT r.route_id, n.service, n.method FROM unnest($1::text[]) AS r(route_id)
     CROSS JOIN LATERAL (SELECT o.service, o.method FROM cutover.observations o WHERE o.route_id = r.route_id ${since} ORDER BY o.observed_at DESC, o.id DESC LIMIT 1) n`,
    values,
  );
  return new Map(result.rows.map((row) => [row.route_id, { service: row.service, method: row.method }]));
}

/** Requests the routes' samples left out, over the hours the window touches (counted per hour, so its first hour whole). */
async function sampledOut(pool: Queryable, routeIds: readonly string[], query: TallyQuery): Promise<Map<string, number>> {
  if (routeIds.length === 0) return new Map();
  const values: unknown[] = [[...routeIds]];
  const since = query.since === undefined ? '' : `AND hour >= date_trunc('hour', $${values.push(query.since)}::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;
  const result = await pool.query<{ route_id: string; requests: string }>(`SELECT route_id, sum(requests)::text AS requests FROM cutover.sampled_out WHERE route_id = ANY($1::text[]) ${since} GROUP BY route_id`, values);
  return new Map(result.rows.map((row) => [row.route_id, Number(row.requests)]));
}

function emptyRoute(routeId: string, first: Date): RouteTally {
  const buckets = () => new Array<number>(latencyBucketsMs.length + 1).fill(0);
  return {
    routeId,
    service: '',
    method: '',
    observations: 0,
    matched: 0,
    mismatched: 0,
    ignored: 0,
    errored: 0,
    firstObservedAt: first,
    sampledOut: 0,
    modes: [],
    ignoredBy: {},
    erroredBySide: { serving: 0, shadow: 0, both: 0 },
    reimplServing: [],
    sides: [],
    accepted: [],
    mismatchPaths: [],
    latency: { all: { legacy: emptyStats(), reimpl: emptyStats() }, buckets: { legacy: buckets(), reimpl: buckets() }, copies: emptyComparison(), split: emptyComparison() },
  };
}

const sortedRecord = (map: Map<string, number>) => Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * Memory the tallies' aggregates may take per node. The counts' groups are few (thousands), but the
 * planner, multiplying the distinct values of a dozen columns, expects one per row and below this
 * sorts the whole window instead of hashing it; the latency histogram holds one row per distinct
 * value. Hash tables only grow to what they hold, so this is a permission, not an allocation.
 */
const tallyWorkMem = '256MB';

/**
 * The passes run one after another on one client, in one REPEATABLE READ snapshot: the counts,
 * the latencies and the mismatch paths then describe the same observations even while the proxy
 * writes more, and a report holds one of the pool's connections, never all of them (the
 * observation writer shares the pool). JIT is off: its compile time (150-350 ms here) is more than
 * it saves on these plans.
 */
async function inSnapshot<T>(pool: pg.Pool, work: (client: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failed = false;
  try {
    await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL work_mem = '${tallyWorkMem}'; SET LOCAL jit = off`);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failed = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    // A client whose rollback failed may be mid-transaction: destroy it rather than hand it back.
    client.release(failed ? true : undefined);
  }
}

/** The tallies of the window, computed in PostgreSQL. */
export async function tallyObservations(pool: pg.Pool, query: TallyQuery = {}): Promise<ObservationTallies> {
  return inSnapshot(pool, (client) => tallyIn(client, query));
}

async function tallyIn(pool: Queryable, query: TallyQuery): Promise<ObservationTallies> {
  const countRows = await counts(pool, query);
  const latency = await latencies(pool, query);
  const accepted = await acceptedDifferences(pool, query);
  const mismatches = await mismatchPaths(pool, query);
  const routes = new Map<string, RouteTally>();
  const modes = new Map<string, Set<FlagMode>>();
  const ignoredBy = new Map<string, Map<string, number>>();
  const sides = new Map<string, Map<string, SideOutcomeCount>>();
  const reimplServing = new Map<string, Map<string, SideOutcomeCount & { mode: FlagMode }>>();
  const hours = new Map<string, ParityHour>();
  for (const row of countRows) {
    const route = routes.get(row.route_id) ?? emptyRoute(row.route_id, row.first);
    routes.set(row.route_id, route);
    if (row.first < route.firstObservedAt) route.firstObservedAt = row.first;
    route.observations += row.n;
    route[row.verdict] += row.n;
    (modes.get(row.route_id) ?? modes.set(row.route_id, new Set()).get(row.route_id)!).add(row.mode);
    if (row.verdict === 'ignored') {
      const rules = ignoredBy.get(row.route_id) ?? ignoredBy.set(row.route_id, new Map()).get(row.route_id)!;
      for (const rule of row.ignored_by) rules.set(rule, (rules.get(rule) ?? 0) + row.n);
    }
    if (row.verdict === 'errored' && row.errored_side) route.erroredBySide[row.errored_side] += row.n;
    if (servedByReimpl(row.mode, row.serving_side)) {
      countReimplServing(reimplServing.get(row.route_id) ?? reimplServing.set(row.route_id, new Map()).get(row.route_id)!, row.mode, { status: row.serving_status, error: row.serving_error }, row.n);
    }
    const answers = sides.get(row.route_id) ?? sides.set(row.route_id, new Map()).get(row.route_id)!;
    for (const [side, status, error] of [[row.serving_side, row.serving_status, row.serving_error], [row.shadow_side, row.shadow_status, row.shadow_error]] as const) {
      const key = `${side}\u0000${status}\u0000${error}`;
      const entry = answers.get(key) ?? { side, status, error, count: 0 };
      entry.count += row.n;
      answers.set(key, entry);
    }
    if (row.verdict === 'matched' || row.verdict === 'mismatched') {
      const hour = row.hour.toISOString();
      const point = hours.get(hour) ?? { hour, matched: 0, mismatched: 0 };
      point[row.verdict] += row.n;
      hours.set(hour, point);
    }
  }
  for (const [routeId, route] of routes) {
    route.modes = [...modes.get(routeId)!].sort();
    route.ignoredBy = sortedRecord(ignoredBy.get(routeId) ?? new Map());
    route.sides = [...sides.get(routeId)!.values()].sort(compareSides);
    route.reimplServing = [...(reimplServing.get(routeId)?.values() ?? [])].sort(compareReimplServing);
  }
  const stats = (count: number, at: Array<number | null> | null): LatencyStats => ({ count, p50: at?.[0] ?? null, p95: at?.[1] ?? null, p99: at?.[2] ?? null });
  for (const row of latency) {
    const target = routes.get(row.route_id)!.latency;
    if (row.kind === 'bucket') {
      target.buckets.legacy[row.bucket!] = row.legacy_n;
      target.buckets.reimpl[row.bucket!] = row.reimpl_n;
      continue;
    }
    const sides = { legacy: stats(row.legacy_n, row.legacy_p), reimpl: stats(row.reimpl_n, row.reimpl_p) };
    if (row.basis === 'all') target.all = sides;
    else target[row.basis] = { ...sides, reimplRankSum: row.rank_sum2! / 2, tieTerm: row.tie_term! };
  }
  const acceptedByRoute = new Map<string, Map<string, { observations: number; paths: Map<string, number> }>>();
  for (const row of accepted) {
    const ids = acceptedByRoute.get(row.route_id) ?? acceptedByRoute.set(row.route_id, new Map()).get(row.route_id)!;
    const entry = ids.get(row.id) ?? ids.set(row.id, { observations: 0, paths: new Map() }).get(row.id)!;
    if (row.path === null) entry.observations = row.n;
    else entry.paths.set(row.path, row.n);
  }
  for (const [routeId, ids] of acceptedByRoute) {
    routes.get(routeId)!.accepted = [...ids].sort(([a], [b]) => a.localeCompare(b)).map(([id, entry]) => ({ id, observations: entry.observations, paths: sortedRecord(entry.paths) }));
  }
  const paths = new Map<string, MismatchPathTally[]>();
  for (const row of mismatches) {
    const list = paths.get(row.route_id) ?? paths.set(row.route_id, []).get(row.route_id)!;
    list.push({ path: row.folded, count: row.n, example: { observedAt: row.observed_at.toISOString(), requestPath: row.request_path, path: row.path, serving: row.serving, shadow: row.shadow } });
  }
  for (const [routeId, list] of paths) routes.get(routeId)!.mismatchPaths = list.sort(compareMismatchPaths);
  const names = await newest(pool, [...routes.keys()], query);
  const sampled = await sampledOut(pool, [...routes.keys()], query);
  for (const [routeId, route] of routes) Object.assign(route, names.get(routeId), { sampledOut: sampled.get(routeId) ?? 0 });
  return {
    routes: [...routes.values()].sort((a, b) => (a.routeId < b.routeId ? -1 : 1)),
    parityByHour: [...hours.values()].sort((a, b) => (a.hour < b.hour ? -1 : 1)),
  };
}
