/**
 * The job lifecycle shared by the reporting, market-analysis and valuation plugins.
 * Reproduces legacy terrafusion_sync/plugins/reporting_jobs.py: one row per job,
 * PENDING -> RUNNING -> COMPLETED | FAILED with work done inside the POST, naive-UTC stamps,
 * JSON columns written as legacy's `json.dumps(jsonable_encoder(v))` so either side reads
 * the other's rows, and `GET /status/{id}` + `GET /results/{id}` reading the row back.
 */
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { utcNowIso } from '../../shared/clock.js';
import { HttpDetail, sendPy } from '../../shared/fastapi.js';
import { pyJsonStored, type PyValue } from '../../shared/py-json.js';

export const PENDING = 'PENDING';
export const RUNNING = 'RUNNING';
export const COMPLETED = 'COMPLETED';
export const FAILED = 'FAILED';
const CREATED_MESSAGE = 'Job created and pending processing';
const STARTED_MESSAGE = 'Job processing started';

export type Row = { [key: string]: PyValue | undefined };

export interface JobTable {
  table: string;
  idColumn: string;
  /** Subject of 404/400 messages, e.g. `Report job`. */
  label: string;
  jsonColumns: readonly string[];
}

/** Where and when a job row changes: only from these states; on this client (one holding a lock). */
export interface SetOptions {
  onlyFrom?: readonly string[];
  db?: pg.Pool | pg.PoolClient;
}

/** Raised by a job's work to fail it with exactly this message. */
export class JobFailed extends Error {}

export class JobStore {
  private readonly selectSql: string;

  constructor(private readonly pool: pg.Pool, readonly table: JobTable) {
    this.selectSql = `SELECT * FROM ${table.table} WHERE ${table.idColumn} = $1`;
  }

  private bind(values: Row): { columns: string[]; exprs: string[]; params: unknown[] } {
    const columns = Object.keys(values);
    const params = columns.map((c) => (this.table.jsonColumns.includes(c) ? pyJsonStored(values[c]) : values[c]));
    const exprs = columns.map((c, i) => (this.table.jsonColumns.includes(c) ? `CAST($${i + 1} AS json)` : `$${i + 1}`));
    return { columns, exprs, params };
  }

  /** Inserts a PENDING job and returns its new uuid4 id. */
  async create(values: Row): Promise<string> {
    const id = randomUUID();
    const now = utcNowIso();
    const row = { [this.table.idColumn]: id, status: PENDING, message: CREATED_MESSAGE, created_at: now, updated_at: now, ...values };
    const { columns, exprs, params } = this.bind(row);
    await this.pool.query(`INSERT INTO ${this.table.table} (${columns.join(', ')}) VALUES (${exprs.join(', ')})`, params);
    return id;
  }

  /**
   * Moves a job to `status`, stamping started_at (RUNNING) or completed_at (COMPLETED, FAILED);
   * `options` as set(). True when the row changed.
   */
  async update(id: string, status: string, message: string, values: Row = {}, options: SetOptions = {}): Promise<boolean> {
    const now = utcNowIso();
    const row: Row = { status, message, updated_at: now, ...values };
    if (status === RUNNING) row.started_at = now;
    else if (status === COMPLETED || status === FAILED) row.completed_at = now;
    return this.set(id, row, options);
  }

  /**
   * `UPDATE` of the job's columns named in `row` (JSON columns rendered as on insert). With
   * `onlyFrom`, only a job in one of those states changes (one conditional UPDATE, so two racing
   * transitions cannot both win); on `db` when given. True when the row changed.
   */
  async set(id: string, row: Row, options: SetOptions = {}): Promise<boolean> {
    const onlyFrom = options.onlyFrom ?? [];
    const { columns, exprs, params } = this.bind(row);
    const sets = columns.map((c, i) => `${c} = ${exprs[i]}`).join(', ');
    const guard = onlyFrom.length ? ` AND status = ANY($${params.length + 2})` : '';
    const result = await (options.db ?? this.pool).query(
      `UPDATE ${this.table.table} SET ${sets} WHERE ${this.table.idColumn} = $${params.length + 1}${guard}`,
      onlyFrom.length ? [...params, id, [...onlyFrom]] : [...params, id],
    );
    return result.rowCount === 1;
  }

  /** The row, or undefined when there is none. */
  async find(id: string): Promise<Row | undefined> {
    const result = await this.pool.query<Row>({ name: `get_${this.table.table}`, text: this.selectSql, values: [id] });
    return result.rows[0];
  }

  /** The row; 404 `{label} {id} not found` when there is none. */
  async get(id: string): Promise<Row> {
    const row = await this.find(id);
    if (!row) throw new HttpDetail(404, `${this.table.label} ${id} not found`);
    return row;
  }

  /** The row if COMPLETED; 400 naming the current status otherwise. */
  async getCompleted(id: string): Promise<Row> {
    const row = await this.get(id);
    if (row.status !== COMPLETED) {
      throw new HttpDetail(400, `${this.table.label} ${id} is not completed (current status: ${String(row.status)})`);
    }
    return row;
  }

  /** Runs `work` inline: RUNNING, then COMPLETED with its columns, or FAILED. */
  async runInline(id: string, work: () => Promise<Row>, successMessage: string, failurePrefix: string): Promise<void> {
    await this.update(id, RUNNING, STARTED_MESSAGE);
    let values: Row;
    try {
      values = await work();
    } catch (error) {
      if (error instanceof HttpDetail) throw error;
      const message = error instanceof JobFailed ? error.message : `${failurePrefix}: ${pythonStr(error)}`;
      await this.update(id, FAILED, message);
      return;
    }
    await this.update(id, COMPLETED, successMessage, values);
  }

  /** What every `/run` does: create, run inline, return the final row; 500 `{startFailure}: ...` when the job cannot be recorded. */
  async createAndRun(values: Row, work: (id: string) => Promise<Row>, successMessage: string, failurePrefix: string, startFailure: string): Promise<Row> {
    try {
      const id = await this.create(values);
      await this.runInline(id, () => work(id), successMessage, failurePrefix);
      return await this.get(id);
    } catch (error) {
      if (error instanceof HttpDetail) throw error;
      throw new HttpDetail(500, `${startFailure}: ${pythonStr(error)}`);
    }
  }
}

/** str(exc) of an error, as legacy puts it into messages. */
export function pythonStr(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Registers `GET /status/{id}` and `GET /results/{id}` (COMPLETED only). */
export function addStatusAndResultsRoutes(
  app: FastifyInstance,
  prefix: string,
  store: JobStore,
  statusBody: (row: Row) => Row,
  resultBody: (row: Row) => PyValue,
  resultFields: readonly string[],
): void {
  app.get<{ Params: { id: string } }>(`${prefix}/status/:id`, async (request, reply) =>
    sendPy(reply, 200, statusBody(await store.get(request.params.id))),
  );
  app.get<{ Params: { id: string } }>(`${prefix}/results/:id`, async (request, reply) => {
    const row = await store.getCompleted(request.params.id);
    const status = statusBody(row);
    // The results model keeps only its own fields, in its declaration order.
    const body: Row = {};
    for (const field of resultFields) body[field] = status[field] ?? null;
    body.result = resultBody(row);
    return sendPy(reply, 200, body);
  });
}
