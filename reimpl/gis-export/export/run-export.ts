/**
 * One real GIS export: stream the county's layers from PostgreSQL through a server-side
 * cursor, shape each feature, write the file. Reproduces legacy terrafusion_sync/gis/export.py:
 * files land in EXPORT_DIR/<job_id>/, the recorded size is ceil(bytes / 1024).
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveLayers } from './formats.js';
import { FeatureShaper, parseAreaOfInterest, targetSrs } from './geometry.js';
import { pythonFloatOrZero } from './python-float.js';
import { exportClient, streamRows } from './layer-rows.js';
import { openSink } from './sinks.js';

const BATCH_SIZE = 5000;

export interface ExportRequest {
  jobId: string;
  countyId: string;
  format: string;
  areaOfInterest: unknown;
  layers: string[];
  parameters: Record<string, unknown>;
  databaseUrl: string;
  schema?: string;
  exportDir: string;
}

export interface ExportResult {
  path: string;
  fileSizeKb: number;
  recordCount: number;
}

/** Writes the export file of a job and reports what was written; throws on any failure. */
export async function runExport(request: ExportRequest, isCancelled: () => boolean = () => false): Promise<ExportResult | 'cancelled'> {
  const sources = resolveLayers(request.layers);
  const aoi = parseAreaOfInterest(request.areaOfInterest);
  const srs = targetSrs(request.parameters.coordinate_system ?? 'EPSG:4326');
  const tolerance = pythonFloatOrZero(request.parameters.simplify_tolerance);
  const shaper = new FeatureShaper(aoi, tolerance, srs);
  const include = request.parameters.include_attributes;
  const includeAttributes = include === undefined ? true : Boolean(include) && !(typeof include === 'object' && Object.keys(include as object).length === 0);

  const directory = join(request.exportDir, request.jobId);
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  const client = exportClient(request.databaseUrl, request.schema);
  await client.connect();
  try {
    const sink = openSink(request.format, directory, `${request.countyId}_gis_export`, sources, srs, includeAttributes);
    let count = 0;
    for (const source of sources) {
      const writer = sink.writer(source);
      const geometryAt = source.fields.length;
      for await (const batch of streamRows(client, source, request.countyId, shaper.bbox, BATCH_SIZE)) {
        if (isCancelled()) {
          rmSync(directory, { recursive: true, force: true });
          return 'cancelled';
        }
        for (const row of batch) {
          const geometry = shaper.shape(row[geometryAt] as string, source.dimension, row.slice(geometryAt + 1) as (number | null)[]);
          if (geometry && writer.write(row as (string | number | null)[], geometry)) count++;
        }
      }
    }
    const path = await sink.close();
    return { path, fileSizeKb: Math.ceil(statSync(path).size / 1024), recordCount: count };
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  } finally {
    await client.end();
  }
}
