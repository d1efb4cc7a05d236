/**
 * The /api passthroughs, as legacy/terrafusion_gateway/api_routes.py: /api/v1/gis-export/{run,
 * status,results,cancel,list}, /api/v1/{valuation,reporting,market-analysis}/<subpath>,
 * reporting's GET /reports (other counties' jobs dropped) and PATCH /reports/<report_id>,
 * /api/v1/ai/{summarize,classify,explain} and the generic /api/<path>. Every /api/v1 route is
 * permission-guarded; every /api route is county-scoped (query, JSON body, counties/<id> path,
 * and the county of the record sync answers). Status and body of the upstream pass through.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { queryPairs, rawBody, type GatewayContext } from './context.js';
import { sendJsonError, sendJsonify } from './flask-json.js';
import { authenticate, countyInJsonBody, forbiddenCounty, noCredentials, requirePermission, sendCountyForbidden, type Identity } from './identity.js';
import { parsePyJson, type PyValue } from '../shared/py-json.js';
import { answerJson, requotePath, sendAnswer, sendFailure, type QueryPairs } from './upstream.js';

const GIS = '/plugins/v1/gis-export';

// Per job plugin: the permission to start a job, and the one to read its status/results.
const JOB_PLUGINS: Record<string, [run: string, view: string]> = {
  valuation: ['execute_valuation', 'view_valuation_results'],
  reporting: ['generate_report', 'view_reports'],
  'market-analysis': ['run_market_analysis', 'view_market_analysis'],
};

// Forwarded by /api/v1/gis-export/list; anything else in the query is dropped.
const LIST_PARAMS = ['county_id', 'export_format', 'status', 'limit', 'offset'];
const LIST_DEFAULT_LIMIT = '20';

const AI_TASKS = ['summarize', 'classify', 'explain'];

/** The decoded path after `prefix` (Flask's converters see the decoded path). */
function pathAfter(request: FastifyRequest, prefix: string): string {
  const raw = request.url.split('?')[0]!.slice(prefix.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function registerApiRoutes(app: FastifyInstance, context: GatewayContext): void {
  const { rbac, sync, narrator } = context;
  const guard = (request: FastifyRequest, reply: FastifyReply, permission: string) =>
    requirePermission(request, reply, request.flaskSession, context, permission);

  /** 403 sent when a county the request names is not the caller's (every query county_id, then the body's). */
  function requestCountyForbidden(request: FastifyRequest, reply: FastifyReply, identity: Identity): boolean {
    const counties: unknown[] = queryPairs(request).filter(([name]) => name === 'county_id').map(([, value]) => value);
    counties.push(countyInJsonBody(rawBody(request)));
    for (const county of counties) {
      const denied = forbiddenCounty(identity, rbac, county);
      if (denied !== undefined) {
        sendCountyForbidden(reply, denied);
        return true;
      }
    }
    return false;
  }

  /** Forward to sync; refuse the answer when it is a record of a county outside the caller's. */
  async function forwardScoped(reply: FastifyReply, identity: Identity, method: string, path: string, query?: QueryPairs, body?: Buffer, contentType?: string) {
    const result = await sync.call(method, path, query, body, contentType);
    if (result.failure) return sendFailure(reply, result.failure);
    const record = answerJson(result.answer);
    const county = record !== null && typeof record === 'object' && !Array.isArray(record) ? (record as Record<string, unknown>).county_id : undefined;
    const denied = forbiddenCounty(identity, rbac, county);
    return denied !== undefined ? sendCountyForbidden(reply, denied) : sendAnswer(reply, result.answer);
  }

  /** The incoming method, query and body, forwarded to sync's `path`, county-scoped. */
  async function forwardRequest(request: FastifyRequest, reply: FastifyReply, identity: Identity, path: string) {
    if (requestCountyForbidden(request, reply, identity)) return reply;
    return forwardScoped(reply, identity, request.method, path, queryPairs(request), rawBody(request), request.headers['content-type']);
  }

  // --- GIS export ----------------------------------------------------------------------------
  app.post('/api/v1/gis-export/run', { config: { rule: '/api/v1/gis-export/run' } }, async (request, reply) => {
    const identity = await guard(request, reply, 'run_gis_export');
    return identity ? forwardRequest(request, reply, identity, `${GIS}/run`) : reply;
  });

  for (const [kind, permission] of [['status', 'view_gis_export_status'], ['results', 'view_gis_export_results']] as const) {
    app.get<{ Params: { job_id: string } }>(`/api/v1/gis-export/${kind}/:job_id`, { config: { rule: `/api/v1/gis-export/${kind}/<job_id>` } }, async (request, reply) => {
      const identity = await guard(request, reply, permission);
      return identity ? forwardRequest(request, reply, identity, `${GIS}/${kind}/${requotePath(request.params.job_id)}`) : reply;
    });
  }

  /**
   * Sends 403 (or sync's failure) when the record sync serves at `path` belongs to a county
   * outside the caller's; true when sent (false too when there is no such record: the action answers for it).
   */
  async function recordCountyForbidden(reply: FastifyReply, identity: Identity, path: string): Promise<boolean> {
    // A job's county is only known to sync: ask before acting on someone else's job.
    const status = await sync.call('GET', path);
    if (status.failure) {
      sendFailure(reply, status.failure);
      return true;
    }
    const record = answerJson(status.answer);
    const county = record !== null && typeof record === 'object' && !Array.isArray(record) ? (record as Record<string, unknown>).county_id : undefined;
    const denied = forbiddenCounty(identity, rbac, county);
    if (denied === undefined) return false;
    sendCountyForbidden(reply, denied);
    return true;
  }

  const jobCountyForbidden = (reply: FastifyReply, identity: Identity, jobId: string) => recordCountyForbidden(reply, identity, `${GIS}/status/${jobId}`);

  app.post<{ Params: { job_id: string } }>('/api/v1/gis-export/cancel/:job_id', { config: { rule: '/api/v1/gis-export/cancel/<job_id>' } }, async (request, reply) => {
    const identity = await guard(request, reply, 'run_gis_export');
    if (!identity) return reply;
    const jobId = requotePath(request.params.job_id);
    if (await jobCountyForbidden(reply, identity, jobId)) return reply;
    return sync.forward(reply, 'POST', `${GIS}/cancel/${jobId}`);
  });

  // Added by legacy/ (production wrote no file): the exported file, streamed from sync.
  app.get<{ Params: { job_id: string } }>('/api/v1/gis-export/download/:job_id', { config: { rule: '/api/v1/gis-export/download/<job_id>' } }, async (request, reply) => {
    const identity = await guard(request, reply, 'view_gis_export_results');
    if (!identity) return reply;
    const jobId = requotePath(request.params.job_id);
    if (await jobCountyForbidden(reply, identity, jobId)) return reply;
    return sync.relay(reply, 'GET', `${GIS}/download/${jobId}`);
  });

  app.get('/api/v1/gis-export/list', { config: { rule: '/api/v1/gis-export/list' } }, async (request, reply) => {
    const identity = await guard(request, reply, 'view_gis_export_status');
    if (!identity) return reply;
    const query = queryPairs(request);
    // request.args[name] is the first value of a repeated name.
    const params: Array<[string, string]> = [];
    for (const name of LIST_PARAMS) {
      const found = query.find(([key]) => key === name);
      if (found) params.push([name, found[1]]);
    }
    if (!params.some(([name]) => name === 'limit')) params.push(['limit', LIST_DEFAULT_LIMIT]);
    const denied = forbiddenCounty(identity, rbac, params.find(([name]) => name === 'county_id')?.[1]);
    if (denied !== undefined) return sendCountyForbidden(reply, denied);
    const result = await sync.call('GET', `${GIS}/list`, params);
    if (result.failure) return sendFailure(reply, result.failure);
    return onlyAllowedCounties(reply, identity, result.answer);
  });

  /** The jobs of a list the caller may see (entries that are not jobs stay). */
  function visibleJobs(identity: Identity, jobs: PyValue[]): PyValue[] {
    const allowed = rbac.countyIdsForKeys(identity.countyKeys);
    const isJob = (job: PyValue): job is Record<string, PyValue> => job !== null && typeof job === 'object' && !Array.isArray(job) && job.constructor === Object;
    return jobs.filter((job) => !isJob(job) || allowed.has(job.county_id as string));
  }

  /** The JSON of a 200 answer, parsed keeping Python floats (so jsonify writes `1.0` where sync did), or undefined. */
  function jsonAnswer(answer: Parameters<typeof sendAnswer>[1]): PyValue | undefined {
    if (answer.status !== 200) return undefined;
    try {
      return parsePyJson(answer.body.toString('utf8'));
    } catch {
      return undefined;
    }
  }

  /** An unfiltered job list minus other counties' jobs; sync's bytes unchanged when nothing is dropped. */
  function onlyAllowedCounties(reply: FastifyReply, identity: Identity, answer: Parameters<typeof sendAnswer>[1]) {
    const jobs = jsonAnswer(answer);
    if (!Array.isArray(jobs)) return sendAnswer(reply, answer);
    const visible = visibleJobs(identity, jobs);
    return visible.length === jobs.length ? sendAnswer(reply, answer) : sendJsonify(reply, 200, visible);
  }

  /** A page of jobs (`{<key>: [...], "count": n, ...}`) minus other counties' jobs, `count` recounted; sync's bytes unchanged when nothing is dropped. */
  function pageOfAllowedCounties(reply: FastifyReply, identity: Identity, answer: Parameters<typeof sendAnswer>[1], key: string) {
    const page = jsonAnswer(answer);
    const jobs = page !== null && typeof page === 'object' && !Array.isArray(page) ? (page as Record<string, PyValue>)[key] : undefined;
    if (!Array.isArray(jobs)) return sendAnswer(reply, answer);
    const visible = visibleJobs(identity, jobs);
    if (visible.length === jobs.length) return sendAnswer(reply, answer);
    return sendJsonify(reply, 200, { ...(page as Record<string, PyValue>), [key]: visible, count: visible.length });
  }

  /**
   * Sync's /plugins/market-analysis routes (contract 1b.D), reached under its doubled mount
   * /plugins/v1/market-analysis/plugins/market-analysis/: a cancel names no county, so the job's
   * is asked first (as for a GIS export cancel); the list spans every county, so it keeps the
   * caller's counties' jobs, `count` recounted. True when the answer was sent here.
   */
  async function marketAnalysisDoor(request: FastifyRequest, reply: FastifyReply, identity: Identity, subpath: string): Promise<boolean> {
    const door = 'plugins/market-analysis/';
    if (!subpath.startsWith(door)) return false;
    const rest = subpath.slice(door.length);
    const base = `/plugins/v1/market-analysis/${door}`;
    if (rest === 'list' && request.method === 'GET') {
      if (requestCountyForbidden(request, reply, identity)) return true;
      const result = await sync.call('GET', `${base}list`, queryPairs(request));
      if (result.failure) sendFailure(reply, result.failure);
      else pageOfAllowedCounties(reply, identity, result.answer, 'jobs');
      return true;
    }
    const cancel = /^cancel\/([^/]+)$/.exec(rest);
    if (cancel && request.method === 'POST') return recordCountyForbidden(reply, identity, `${base}status/${requotePath(cancel[1]!)}`);
    return false;
  }

  // --- valuation, reporting, market analysis ----------------------------------------------------
  for (const [plugin, [runPermission, viewPermission]] of Object.entries(JOB_PLUGINS)) {
    const prefix = `/api/v1/${plugin}/`;
    app.route({
      method: ['GET', 'POST'],
      url: `${prefix}*`,
      config: { rule: `/api/v1/${plugin}/<path:subpath>` },
      handler: async (request, reply) => {
        const subpath = pathAfter(request, prefix);
        if (subpath === '' || subpath.startsWith('/')) return genericRoute(request, reply);
        const identity = await guard(request, reply, request.method === 'POST' ? runPermission : viewPermission);
        if (!identity) return reply;
        if (plugin === 'market-analysis' && (await marketAnalysisDoor(request, reply, identity, subpath))) return reply;
        return forwardRequest(request, reply, identity, `/plugins/v1/${plugin}/${requotePath(subpath)}`);
      },
    });
  }

  // Reporting's job CRUD (legacy-contract.md section 1b.B). POST /reports and GET /reports/<id>
  // pass through the plugin route above; these two need more than a passthrough.
  const REPORTS = '/plugins/v1/reporting/reports';
  app.get('/api/v1/reporting/reports', { config: { rule: '/api/v1/reporting/reports' } }, async (request, reply) => {
    const identity = await guard(request, reply, 'view_reports');
    if (!identity) return reply;
    if (requestCountyForbidden(request, reply, identity)) return reply;
    const result = await sync.call('GET', REPORTS, queryPairs(request));
    if (result.failure) return sendFailure(reply, result.failure);
    // Other counties' jobs are dropped; `count` stays the page's length.
    return pageOfAllowedCounties(reply, identity, result.answer, 'items');
  });

  // A status update is a write: the run permission, and only on a job of the caller's counties.
  app.patch<{ Params: { report_id: string } }>('/api/v1/reporting/reports/:report_id', { config: { rule: '/api/v1/reporting/reports/<report_id>' } }, async (request, reply) => {
    const identity = await guard(request, reply, 'generate_report');
    if (!identity) return reply;
    const path = `${REPORTS}/${requotePath(request.params.report_id)}`;
    if (await recordCountyForbidden(reply, identity, path)) return reply;
    return forwardRequest(request, reply, identity, path);
  });

  // --- narrator -----------------------------------------------------------------------------------
  app.post<{ Params: { task: string } }>('/api/v1/ai/:task', { config: { rule: '/api/v1/ai/<any(summarize, classify, explain):task>' } }, async (request, reply) => {
    if (!AI_TASKS.includes(request.params.task)) return genericRoute(request, reply);
    const identity = await guard(request, reply, 'use_ai_narrator');
    if (!identity) return reply;
    return narrator.forward(reply, 'POST', `/api/v1/${request.params.task}`, undefined, rawBody(request) ?? Buffer.alloc(0), request.headers['content-type']);
  });

  // --- generic ----------------------------------------------------------------------------------------
  /** Any other sync path, for any signed-in user; sync's plugin routes are refused (they would skip the permission checks). */
  async function genericRoute(request: FastifyRequest, reply: FastifyReply) {
    // Counted under the generic rule, as Flask would have matched it.
    request.metricsRule = '/api/<path:path>';
    const path = pathAfter(request, '/api/');
    const identity = await authenticate(request, reply, request.flaskSession, context, noCredentials);
    if (!identity) return reply;
    const segments = path.split('/');
    if (segments[0] === 'plugins') return sendJsonError(reply, 403, 'Forbidden', 'Plugin routes are only reachable through /api/v1/<plugin>/...');
    if (segments[0] === 'counties' && segments.length > 1) {
      const denied = forbiddenCounty(identity, rbac, segments[1]);
      if (denied !== undefined) return sendCountyForbidden(reply, denied);
    }
    return forwardRequest(request, reply, identity, `/${requotePath(path)}`);
  }

  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/api/*',
    config: { rule: '/api/<path:path>' },
    handler: async (request, reply) => {
      // `<path:path>` needs at least one character that is not a slash.
      const path = pathAfter(request, '/api/');
      if (path === '' || path.startsWith('/')) {
        request.metricsRule = '404_not_found';
        return reply.callNotFound();
      }
      return genericRoute(request, reply);
    },
  });
}
