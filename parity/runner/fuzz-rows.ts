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
import { parseJsonText, type JsonValue } from '../compare/json-text.js';
import { renderFull } from '../compare/values.js';
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
    // As text, read keeping each number as written: pg's JSON.parse would make a stored 0.0 the integer 0.
    const result = await this.pool.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM public."${table.table}" t WHERE "${table.id}" = $1`, [id]);
    const text = result.rows[0]?.row;
    const row = text === undefined ? undefined : (parseJsonText(text) as Record<string, JsonValue>);
    const body = Buffer.from(row === undefined ? '{"detail":"no row"}' : renderFull(normaliseRow(row) as Record<string, JsonValue>), 'utf8');
    return { status: row === undefined ? 404 : 200, headers: {}, body, window: { ...(jobAskedAt === undefined ? {} : { jobAskedAt }), answeredAt: Date.now() } };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
