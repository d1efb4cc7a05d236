/**
 * The job row a fuzzed request left behind on each side (both sides write to the same
 * database's job tables, each under its own job id), read back once the job is terminal and
 * normalised as the proxy's state parity does (proxy/stateful/state-parity.ts: `x_json` columns named
 * as the answers name them, timestamps replaced by their format), so fuzz compares side
 * effects, not only answers.
 */
import pg from 'pg';
import type { Route } from '../../flags/route-catalogue.js';
import { normaliseRow, StateParity } from '../../proxy/stateful/state-parity.js';
import type { Exchange } from './fuzz-exchange.js';

export class JobRows {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    this.pool.on('error', () => undefined);
  }

  /**
   * The normalised row of job `id` of the route's plugin, as a JSON exchange (404 when there is
   * none); its window opens where the side's job window opened (`jobAskedAt`) and closes when
   * the row was read, so durations in the row are held to it as in the answers.
   */
  async read(route: Route, id: string, jobAskedAt?: number): Promise<Exchange | undefined> {
    const table = StateParity.tableOf(route);
    if (!table) return undefined;
    const result = await this.pool.query<{ row: Record<string, unknown> }>(`SELECT row_to_json(t) AS row FROM public."${table.table}" t WHERE "${table.id}" = $1`, [id]);
    const row = result.rows[0]?.row;
    const body = Buffer.from(row === undefined ? '{"detail":"no row"}' : JSON.stringify(normaliseRow(row)), 'utf8');
    return { status: row === undefined ? 404 : 200, headers: {}, body, window: { ...(jobAskedAt === undefined ? {} : { jobAskedAt }), answeredAt: Date.now() } };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
