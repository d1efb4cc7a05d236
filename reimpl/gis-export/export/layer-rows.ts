/**
 * Rows of one export layer out of PostgreSQL. Reproduces legacy
 * terrafusion_sync/gis/layers.py stream_rows: bbox prefilter in SQL, ordered by the layer's id,
 * through a server-side cursor in batches so a 200k-parcel county never sits in memory.
 * Free of gdal-async: the TypeScript writers use it in the HTTP process.
 */
import pg from 'pg';
import type { LayerSource } from './formats.js';

export type Bbox = readonly [number, number, number, number];

// Numbers come back as JS numbers, everything else as text: what the writers take.
const rawTypes = {
  getTypeParser: (oid: number) => (oid === 701 || oid === 700 || oid === 23 || oid === 21 || oid === 20 ? Number : (text: string) => text),
} as pg.CustomTypesConfig;

/** A client for export reads (raw types, the job's search_path). */
export function exportClient(databaseUrl: string, schema: string | undefined): pg.Client {
  return new pg.Client({
    connectionString: databaseUrl,
    types: rawTypes,
    ...(schema?.trim() ? { options: `-c search_path=${schema.replace(/\s+/g, '')}` } : {}),
  });
}

/** The rows an export reads of a layer: the county's, with a geometry, bbox overlapping the area's ($1 county, $2-$5 bbox). */
const LAYER_FILTER = 'WHERE county_id = $1 AND geometry IS NOT NULL AND max_x >= $2 AND min_x <= $4 AND max_y >= $3 AND min_y <= $5';

/** How many rows streamRows will give for the same layer, county and bbox. */
export async function countRows(client: pg.Client, source: LayerSource, countyId: string, bbox: Bbox): Promise<number> {
  const { rows } = await client.query<unknown[]>({ text: `SELECT count(*) FROM ${source.table} ${LAYER_FILTER}`, values: [countyId, bbox[0], bbox[1], bbox[2], bbox[3]], rowMode: 'array' });
  return Number(rows[0]![0]);
}

/** Batches of rows: the layer's fields, then geometry text, min_x, min_y, max_x, max_y. */
export async function* streamRows(client: pg.Client, source: LayerSource, countyId: string, bbox: Bbox, batchSize: number): AsyncGenerator<unknown[][]> {
  const columns = source.fields.map((f) => f.sql).join(', ');
  await client.query('BEGIN');
  let next: Promise<pg.QueryResult<unknown[]>> | undefined;
  try {
    await client.query(
      `DECLARE rows_cursor NO SCROLL CURSOR FOR SELECT ${columns}${columns ? ', ' : ''}geometry, min_x, min_y, max_x, max_y FROM ${source.table} ` +
        `${LAYER_FILTER} ORDER BY ${source.idColumn}`,
      [countyId, bbox[0], bbox[1], bbox[2], bbox[3]],
    );
    const fetch = () => client.query<unknown[]>({ text: `FETCH ${batchSize} FROM rows_cursor`, rowMode: 'array' });
    // One batch ahead: PostgreSQL reads and sends the next batch (on its own core) while this
    // one is shaped and written, and never more than that, so memory stays two batches.
    next = fetch();
    for (;;) {
      const { rows } = await next;
      if (rows.length === 0) break;
      next = fetch();
      yield rows;
    }
    next = undefined;
  } finally {
    // A consumer that stops early (cancel, failure) leaves a fetch in flight; it settles before the ROLLBACK.
    await next?.catch(() => undefined);
    await client.query('ROLLBACK');
  }
}
