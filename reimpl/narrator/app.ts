/**
 * Builds the TypeScript narrator (fastify), the counterpart of legacy/terrafusion_narrator/app.py:
 * GET /api/v1/health, POST /api/v1/{summarize,classify,explain},
 * POST /api/v1/ai/analyze/gis-export, GET /api/v1/metrics. Errors are `{"error","details"}`;
 * request validation is pydantic v1's 422 list; bodies are FastAPI's compact JSON.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { bodyModel, installFastApiSurface, sendPy } from '../shared/fastapi.js';
import { FASTAPI_PROMETHEUS_CONTENT_TYPE } from '../shared/python-prometheus.js';
import { roundFloat } from '../shared/py-round.js';
import { PyFloat, type PyValue } from '../shared/py-json.js';
import { float, int, issue, str, type ModelSpec, type Validator } from '../shared/pydantic-v1.js';
import { fetchJob, JobNotFound, quoteAll, SyncUnavailable } from './gis-jobs.js';
import { NarratorMetrics } from './metrics.js';
import { ModelUnavailable, ollamaModels } from './models.js';
import { narrate, NarrationFailed } from './narration.js';
import { buildPrompt, cannedAnswer, gisExportFields, type TaskType, type TextTask } from './prompts.js';
import type { NarratorSettings } from './settings.js';

/** constr(min_length=n). */
function minLengthStr(min: number): Validator {
  return (value, loc, issues) => {
    const text = str(value, loc, issues) as string;
    if ([...text].length < min) throw issue(`ensure this value has at least ${min} characters`, 'value_error.any_str.min_length', { limit_value: min });
    return text;
  };
}

const TEXT_REQUEST: ModelSpec = {
  fields: [
    { name: 'text', validator: minLengthStr(1), required: true },
    { name: 'model', validator: str, nullable: true },
    { name: 'max_tokens', validator: int({ ge: 1 }), nullable: true },
    { name: 'temperature', validator: float({ ge: 0, le: 2 }), nullable: true },
  ],
};
const GIS_EXPORT_ANALYSIS_REQUEST: ModelSpec = { fields: [{ name: 'job_id', validator: minLengthStr(1), required: true }] };

const ROUTES: Record<string, string> = {
  '/api/v1/summarize': 'POST',
  '/api/v1/classify': 'POST',
  '/api/v1/explain': 'POST',
  '/api/v1/ai/analyze/gis-export': 'POST',
  '/api/v1/health': 'GET',
  '/api/v1/metrics': 'GET',
};

const sendError = (reply: FastifyReply, status: number, error: string, details: string) => sendPy(reply, status, { error, details });

export interface Narrator {
  app: FastifyInstance;
  metrics: NarratorMetrics;
}

export function buildNarrator(settings: Readonly<NarratorSettings>): Narrator {
  const app = Fastify({ logger: false, keepAliveTimeout: 5000 });
  const metrics = new NarratorMetrics();
  installFastApiSurface(app);
  // Starlette answers a known path with the wrong method 405, not 404.
  for (const [path, method] of Object.entries(ROUTES)) {
    const others = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((candidate) => candidate !== method);
    app.route({
      method: others,
      url: path,
      exposeHeadRoute: false,
      handler: async (_request, reply) => {
        reply.header('allow', method === 'GET' ? 'GET, HEAD' : method);
        return sendPy(reply, 405, { detail: 'Method Not Allowed' });
      },
    });
  }

  interface TaskOptions {
    model?: string | null;
    maxTokens?: number | null;
    temperature?: number | null;
    extra?: Record<string, PyValue>;
  }

  async function runTask(reply: FastifyReply, task: TaskType, prompt: string, canned: string, options: TaskOptions = {}) {
    const started = performance.now();
    const model = options.model || settings.modelName;
    let narration;
    try {
      narration = await narrate(settings, prompt, canned, model, options.maxTokens ?? settings.maxTokens, options.temperature ?? settings.temperature);
    } catch (error) {
      if (!(error instanceof NarrationFailed)) throw error;
      metrics.record(task, model, 'error', (performance.now() - started) / 1000);
      return sendError(reply, 503, 'AI processing failed', error.message);
    }
    const elapsed = (performance.now() - started) / 1000;
    metrics.record(task, narration.modelUsed, narration.status, elapsed);
    const body: Record<string, PyValue> = {
      id: randomUUID(),
      ...options.extra,
      result: narration.result,
      model_used: narration.modelUsed,
      processing_time_ms: new PyFloat(roundFloat(elapsed * 1000, 2)),
      success: true,
    };
    if (narration.fallbackSource) {
      body.fallback = true;
      body.fallback_source = narration.fallbackSource;
    }
    return sendPy(reply, 200, body);
  }

  for (const task of ['summarize', 'classify', 'explain'] as TextTask[]) {
    app.post(`/api/v1/${task}`, async (request, reply) => {
      const { values } = bodyModel(request, TEXT_REQUEST);
      const temperature = values.temperature instanceof PyFloat ? values.temperature.value : null;
      return runTask(reply, task, buildPrompt(task, { text: values.text as string }), cannedAnswer(task), {
        model: values.model as string | null,
        maxTokens: values.max_tokens as number | null,
        temperature,
      });
    });
  }

  app.post('/api/v1/ai/analyze/gis-export', async (request, reply) => {
    const { values } = bodyModel(request, GIS_EXPORT_ANALYSIS_REQUEST);
    let fetched;
    try {
      fetched = await fetchJob(settings.syncServiceUrl, quoteAll(values.job_id as string));
    } catch (error) {
      if (error instanceof JobNotFound) return sendError(reply, 404, 'GIS export job not found', error.message);
      if (error instanceof SyncUnavailable) return sendError(reply, 502, 'SyncService is not available', error.message);
      throw error;
    }
    const fields = gisExportFields(fetched.job, fetched.result);
    return runTask(reply, 'gis_export_analysis', buildPrompt('gis_export_analysis', fields), cannedAnswer('gis_export_analysis', fields), {
      extra: { job_id: fetched.job.job_id ?? null, job_status: fetched.job.status ?? null },
    });
  });

  app.get('/api/v1/health', async (_request, reply) => {
    try {
      const models = await ollamaModels(settings, Math.min(5, settings.timeoutSeconds));
      return sendPy(reply, 200, { status: 'healthy', ollama: { status: 'connected', models: models as PyValue[] } });
    } catch (error) {
      if (!(error instanceof ModelUnavailable)) throw error;
      // The narrator still answers (it falls back), so it is degraded, not down: 200.
      return sendPy(reply, 200, { status: 'degraded', ollama: { status: 'disconnected', models: [] } });
    }
  });

  app.get('/api/v1/metrics', async (_request, reply) => reply.header('content-type', FASTAPI_PROMETHEUS_CONTENT_TYPE).send(await metrics.render()));

  return { app, metrics };
}
