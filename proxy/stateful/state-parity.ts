/**
 * State parity: after a shadowed write of a job route (`/run`, `/cancel`), the job row it left
 * on each side — in the serving schema under the id the client got, in the shadow side's shadow
 * schema under the correlated id (docs/decisions/0002-shadow-writes.md) — is read back and
 * compared, so side effects are compared and not only answers. Rows are normalised the same
 * way on both sides (timestamps by format, ids through the correlation, the route's compare
 * rules applied to the row in its answer shape) and waited for until
 * both are terminal, within a deadline. The result is a linked observation of route
 * `<route>.state`, method `STATE`, path `<table>/<serving id>`, with its own verdict.
 */
import pg from 'pg';
import type { Route } from '../../flags/route-catalogue.js';
import type { SideResult } from '../serving/capture.js';
import type { Correlation } from './correlation.js';
import type { Side } from '../serving/decide.js';
import { isJobState, isTerminal } from './eventual-state.js';
import { JsonNumber } from '../../parity/compare/json-text.js';

/** The job table of each job plugin (the route id's second part) and its id column. */
export const jobTables: Readonly<Record<string, { table: string; id: string }>> = {
  'gis-export': { table: 'gis_export_jobs', id: 'job_id' },
  reporting: { table: 'report_jobs', id: 'report_id' },
  'market-analysis': { table: 'market_analysis_jobs', id: 'job_id' },
  valuation: { table: 'valuation_jobs', id: 'job_id' },
};

export interface StateParityOptions {
  databaseUrl: string;
  /** Schema the serving instances write their jobs to. */
  servingSchema: string;
  /** Schema the shadow instance of each side writes its jobs to. */
  shadowSchemas: Readonly<Record<Side, string>>;
  /** How long to wait for both rows to reach a terminal state. */
  deadlineMs: number;
  intervalMs: number;
  /** Checks running at once; more are skipped (and counted). */
  maxConcurrent: number;
}

export const defaultStateParity: Omit<StateParityOptions, 'databaseUrl'> = Object.freeze({
  servingSchema: 'public',
  shadowSchemas: Object.freeze({ legacy: 'shadow_legacy', reimpl: 'shadow_reimpl' }),
  deadlineMs: 30_000,
  intervalMs: 100,
  maxConcurrent: 16,
});

/** The rows of one job on both sides, as comparable answers. */
export interface StateRows {
  /** `<route>.state`: its own verdicts, apart from the answers'. */
  routeId: string;
  table: string;
  servingId: string;
  serving: SideResult;
  shadow: SideResult;
  correlation: Correlation;
}

const naiveTimestamp = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?$/;
const awareTimestamp = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)$/;

function normaliseValue(value: unknown): unknown {
  // A number read with its text (parity/compare/json-text.ts) stays as written: 0.0 is a float.
  if (value instanceof JsonNumber) return value;
  if (typeof value === 'string' && naiveTimestamp.test(value)) return '<timestamp>';
  if (typeof value === 'string' && awareTimestamp.test(value)) return '<timestamp with time zone>';
  if (Array.isArray(value)) return value.map(normaliseValue);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, normaliseValue(item)]));
  return value;
}

/**
 * A row in the shape of the route's answers, so the route's own compare rules apply to it:
 * `x_json` columns are named `x` as the answers name them (`result_metadata_json` →
 * `result_metadata`), and every timestamp, nested ones included, is replaced by its format
 * (when it was written differs by nature; whether and how it was written does not).
 */
export function normaliseRow(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([column, value]) => [column.endsWith('_json') ? column.slice(0, -5) : column, normaliseValue(value)]));
}

function asSide(side: Side, row: Record<string, unknown> | undefined): SideResult {
  const body = Buffer.from(row === undefined ? '{"detail":"no row"}' : JSON.stringify(normaliseRow(row)), 'utf8');
  return { side, status: row === undefined ? 404 : 200, headers: {}, body, truncated: false, latencyMs: 0, failure: undefined };
}

const identifier = /^[a-z_][a-z0-9_]*$/;

export class StateParity {
  private readonly pool: pg.Pool;
  private running = 0;
  /** Checks not made because `maxConcurrent` were running. */
  skipped = 0;
  /** Checks that failed to read the database. */
  failed = 0;

  constructor(private readonly options: StateParityOptions) {
    for (const schema of [options.servingSchema, ...Object.values(options.shadowSchemas)]) {
      if (!identifier.test(schema)) throw new Error(`state parity: invalid schema name ${schema}`);
    }
    this.pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
    this.pool.on('error', () => undefined);
  }

  /** The job table of a route, when it is a job plugin's. */
  static tableOf(route: Route): { table: string; id: string } | undefined {
    return jobTables[route.id.split('.')[1] ?? ''];
  }

  private async row(schema: string, table: { table: string; id: string }, id: string): Promise<Record<string, unknown> | undefined> {
    const result = await this.pool.query<{ row: Record<string, unknown> }>(`SELECT row_to_json(t) AS row FROM "${schema}"."${table.table}" t WHERE "${table.id}" = $1`, [id]);
    return result.rows[0]?.row;
  }

  /**
   * Reads the rows of each correlated job a shadowed write touched, once both are terminal or
   * the deadline passed. Resolves with nothing when the route is not a job plugin's, the budget
   * is spent or the database cannot be read (counted); never rejects.
   */
  async rowsAfterWrite(route: Route, correlations: readonly Correlation[], shadowSide: Side): Promise<StateRows[]> {
    const table = StateParity.tableOf(route);
    if (!table || correlations.length === 0) return [];
    if (this.running >= this.options.maxConcurrent) {
      this.skipped++;
      return [];
    }
    this.running++;
    try {
      const out: StateRows[] = [];
      for (const correlation of correlations) {
        const shadowSchema = this.options.shadowSchemas[shadowSide];
        const deadline = Date.now() + this.options.deadlineMs;
        let serving: Record<string, unknown> | undefined;
        let shadow: Record<string, unknown> | undefined;
        for (;;) {
          [serving, shadow] = await Promise.all([
            this.row(this.options.servingSchema, table, correlation.servingId),
            this.row(shadowSchema, table, correlation.shadowId),
          ]);
          const settled = (row: typeof serving) => row !== undefined && isJobState(row.status) && isTerminal(row.status);
          if ((settled(serving) && settled(shadow)) || Date.now() + this.options.intervalMs > deadline) break;
          await new Promise((resolve) => setTimeout(resolve, this.options.intervalMs).unref());
        }
        out.push({
          routeId: `${route.id}.state`,
          table: table.table,
          servingId: correlation.servingId,
          serving: asSide(correlation.servingSide, serving),
          shadow: asSide(shadowSide, shadow),
          correlation,
        });
      }
      return out;
    } catch {
      this.failed++;
      return [];
    } finally {
      this.running--;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
