/**
 * GIS export routes, prefix /plugins/v1/gis-export. Reproduces legacy
 * terrafusion_sync/plugins/gis_export.py: POST /run (200 with PENDING, job started after the
 * response), GET /status/{id}, /results/{id}, POST /cancel/{id}, GET /list, /formats/{county},
 * /defaults/{county}, /download/{id}, /health, /metrics (section 1b.C) — same messages, fields
 * and field order.
 */
import type { FastifyInstance } from 'fastify';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { utcNowIso } from '../shared/clock.js';
import type { CountyConfigs } from '../shared/county-configs.js';
import { bodyModel, HttpDetail, intQueries, lastValue, sendJsonText, sendPy } from '../shared/fastapi.js';
import { pyJson, type PyValue } from '../shared/py-json.js';
import { dict, list, str, type ModelSpec } from '../shared/pydantic-v1.js';
import type { GisJob, GisJobStore } from './job-store.js';
import { MEDIA_TYPES } from './export/formats.js';
import type { GisExportMetrics } from './metrics-text.js';
import type { ExportRunner } from './runner.js';

export const GIS_PREFIX = '/plugins/v1/gis-export';

const runRequest: ModelSpec = {
  fields: [
    { name: 'county_id', validator: str, required: true },
    { name: 'format', validator: str, required: true },
    { name: 'username', validator: str, required: true },
    { name: 'area_of_interest', validator: dict, required: true },
    { name: 'layers', validator: list(str), required: true },
    { name: 'parameters', validator: dict, nullable: true },
  ],
};

export interface GisRoutesOptions {
  store: GisJobStore;
  counties: CountyConfigs;
  runner: ExportRunner;
  exportDir: string;
  metrics: GisExportMetrics;
}

function parameters(job: GisJob): PyValue {
  const extra = job.parameters_json;
  return {
    area_of_interest: job.area_of_interest_json,
    layers: job.layers_json,
    ...(extra && typeof extra === 'object' && !Array.isArray(extra) ? (extra as Record<string, PyValue>) : {}),
  };
}

/** StatusResponse of a job row. */
export function statusResponse(job: GisJob): PyValue {
  return {
    job_id: job.job_id, county_id: job.county_id, export_format: job.export_format, status: job.status,
    message: job.message, parameters: parameters(job), created_at: job.created_at, updated_at: job.updated_at,
    started_at: job.started_at, completed_at: job.completed_at,
  };
}

function resultResponse(job: GisJob): PyValue {
  return {
    job_id: job.job_id, county_id: job.county_id, export_format: job.export_format, status: job.status,
    message: job.message, parameters: parameters(job), created_at: job.created_at, completed_at: job.completed_at,
    result: { file_location: job.result_file_location, file_size_kb: job.result_file_size_kb, record_count: job.result_record_count, data: null },
  };
}

export async function gisExportRoutes(app: FastifyInstance, options: GisRoutesOptions): Promise<void> {
  const { store, counties, runner } = options;
  const formatsOf = (countyId: string): string[] => [...(counties.get(countyId)?.availableFormats ?? [])];
  const defaultsOf = (countyId: string): Record<string, PyValue> => ({ ...(counties.get(countyId)?.exportDefaults ?? {}) });
  const jobOr404 = async (id: string): Promise<GisJob> => {
    const job = await store.get(id);
    if (!job) throw new HttpDetail(404, `GIS export job ${id} not found`);
    return job;
  };

  app.post(`${GIS_PREFIX}/run`, async (request, reply) => {
    const { values } = bodyModel(request, runRequest);
    const countyId = values.county_id as string;
    const format = values.format as string;
    const formats = formatsOf(countyId);
    if (!formats.includes(format)) {
      throw new HttpDetail(400, `Export format '${format}' is not supported for county '${countyId}'. Supported formats are: ${formats.join(', ')}`);
    }
    const given = values.parameters as Record<string, PyValue> | null;
    let job: GisJob;
    try {
      job = await store.insert(randomUUID(), countyId, format, values.area_of_interest!, values.layers!, given ?? defaultsOf(countyId));
    } catch (error) {
      throw new HttpDetail(500, `Failed to create export job: ${error instanceof Error ? error.message : String(error)}`);
    }
    runner.submitted(countyId, format);
    // As FastAPI's BackgroundTasks: the job is handed to the workers once the response is sent.
    reply.raw.once('finish', () => runner.submit(job.job_id));
    return sendPy(reply, 200, statusResponse(job));
  });

  app.get<{ Params: { id: string } }>(`${GIS_PREFIX}/status/:id`, async (request, reply) => sendPy(reply, 200, statusResponse(await jobOr404(request.params.id))));

  app.get<{ Params: { id: string } }>(`${GIS_PREFIX}/results/:id`, async (request, reply) => {
    const job = await jobOr404(request.params.id);
    if (job.status !== 'COMPLETED') {
      throw new HttpDetail(400, `GIS export job ${request.params.id} is not completed (current status: ${job.status})`);
    }
    return sendPy(reply, 200, resultResponse(job));
  });

  app.post<{ Params: { id: string } }>(`${GIS_PREFIX}/cancel/:id`, async (request, reply) => {
    await jobOr404(request.params.id);
    const refusedBy = await store.cancel(request.params.id);
    if (refusedBy !== undefined) throw new HttpDetail(400, `Cannot cancel job that is already ${refusedBy}`);
    runner.cancelRequested(request.params.id);
    return sendPy(reply, 200, statusResponse(await jobOr404(request.params.id)));
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>(`${GIS_PREFIX}/list`, async (request, reply) => {
    const [limit, offset] = intQueries(request.query, [
      { name: 'limit', fallback: 100, ge: 1, le: 1000 },
      { name: 'offset', fallback: 0, ge: 0 },
    ]);
    const jobs = await store.list(lastValue(request.query.county_id), lastValue(request.query.status), limit!, offset!);
    return sendJsonText(reply, 200, pyJson(jobs.map(statusResponse)));
  });

  app.get<{ Params: { county_id: string } }>(`${GIS_PREFIX}/formats/:county_id`, async (request, reply) => sendPy(reply, 200, formatsOf(request.params.county_id)));
  app.get<{ Params: { county_id: string } }>(`${GIS_PREFIX}/defaults/:county_id`, async (request, reply) => sendPy(reply, 200, defaultsOf(request.params.county_id)));

  app.get<{ Params: { id: string } }>(`${GIS_PREFIX}/download/:id`, async (request, reply) => {
    const job = await jobOr404(request.params.id);
    const directory = join(options.exportDir, request.params.id);
    let files: string[] = [];
    if (job.status === 'COMPLETED') {
      try {
        files = readdirSync(directory).sort().filter((name) => statSync(join(directory, name)).isFile());
      } catch {
        files = [];
      }
    }
    const name = files[0];
    if (!name) throw new HttpDetail(404, `Export file for GIS export job ${request.params.id} not found`);
    const path = join(directory, name);
    const mediaType = MEDIA_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
    return reply
      .code(200)
      .header('content-type', mediaType.startsWith('text/') ? `${mediaType}; charset=utf-8` : mediaType)
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('content-length', statSync(path).size)
      .send(createReadStream(path));
  });

  app.get(`${GIS_PREFIX}/health`, async (_request, reply) =>
    sendPy(reply, 200, { status: 'healthy', plugin: 'gis_export', version: '1.0.0', timestamp: utcNowIso() }),
  );

  app.get(`${GIS_PREFIX}/metrics`, async (_request, reply) => {
    let text: string;
    try {
      text = await options.metrics.render();
    } catch (error) {
      throw new HttpDetail(500, `Failed to get metrics: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Legacy's Response(media_type="text/plain"): Starlette adds the charset.
    return reply.code(200).header('content-type', 'text/plain; charset=utf-8').send(text);
  });
}
