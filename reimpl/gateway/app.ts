/**
 * Builds the TypeScript gateway (fastify), the counterpart of legacy/terrafusion_gateway/app.py:
 * health, auth, /api passthroughs and metrics, with Flask's habits on top: every body kept raw,
 * the signed session cookie saved after the handler, JSON 404/405 bodies with werkzeug's words
 * and the Allow header, automatic OPTIONS, and `{"error","message"}` for unexpected errors.
 */
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { registerApiRoutes } from './api-routes.js';
import { registerAuthRoutes } from './auth-routes.js';
import type { GatewayContext } from './context.js';
import { MAX_PATH_PARAM, starletteRoutedUrl } from '../shared/fastapi.js';
import { sendJsonError } from './flask-json.js';
import { sessionSetCookie } from './flask-session.js';
import { registerHealthRoutes } from './health.js';
import { RequestSession } from './identity.js';
import { GatewayMetrics } from './metrics.js';
import { loadRbacStore } from './rbac-store.js';
import type { GatewaySettings } from './settings.js';
import { narratorUpstream, syncUpstream } from './upstream.js';

/** Flask's url rules and their methods, for 405 and OPTIONS (werkzeug adds HEAD to GET rules, and OPTIONS). */
const RULES: Array<{ rule: string; pattern: RegExp; methods: string[] }> = [
  { rule: '/', pattern: /^\/$/, methods: ['GET'] },
  { rule: '/login', pattern: /^\/login$/, methods: ['GET', 'POST'] },
  { rule: '/auth/login', pattern: /^\/auth\/login$/, methods: ['POST'] },
  { rule: '/auth/refresh', pattern: /^\/auth\/refresh$/, methods: ['POST'] },
  { rule: '/health', pattern: /^\/health$/, methods: ['GET'] },
  { rule: '/health/live', pattern: /^\/health\/live$/, methods: ['GET'] },
  { rule: '/health/ready', pattern: /^\/health\/ready$/, methods: ['GET'] },
  { rule: '/gateway-metrics', pattern: /^\/gateway-metrics$/, methods: ['GET'] },
  { rule: '/api/v1/gis-export/run', pattern: /^\/api\/v1\/gis-export\/run$/, methods: ['POST'] },
  { rule: '/api/v1/gis-export/list', pattern: /^\/api\/v1\/gis-export\/list$/, methods: ['GET'] },
  { rule: '/api/v1/gis-export/status/<job_id>', pattern: /^\/api\/v1\/gis-export\/status\/[^/]+$/, methods: ['GET'] },
  { rule: '/api/v1/gis-export/results/<job_id>', pattern: /^\/api\/v1\/gis-export\/results\/[^/]+$/, methods: ['GET'] },
  { rule: '/api/v1/gis-export/download/<job_id>', pattern: /^\/api\/v1\/gis-export\/download\/[^/]+$/, methods: ['GET'] },
  { rule: '/api/v1/gis-export/cancel/<job_id>', pattern: /^\/api\/v1\/gis-export\/cancel\/[^/]+$/, methods: ['POST'] },
  { rule: '/api/v1/ai/<any(summarize, classify, explain):task>', pattern: /^\/api\/v1\/ai\/(summarize|classify|explain)$/, methods: ['POST'] },
  { rule: '/api/v1/valuation/<path:subpath>', pattern: /^\/api\/v1\/valuation\/[^/].*$/, methods: ['GET', 'POST'] },
  { rule: '/api/v1/reporting/reports', pattern: /^\/api\/v1\/reporting\/reports$/, methods: ['GET'] },
  { rule: '/api/v1/reporting/reports/<report_id>', pattern: /^\/api\/v1\/reporting\/reports\/[^/]+$/, methods: ['PATCH'] },
  { rule: '/api/v1/reporting/<path:subpath>', pattern: /^\/api\/v1\/reporting\/[^/].*$/, methods: ['GET', 'POST'] },
  { rule: '/api/v1/market-analysis/<path:subpath>', pattern: /^\/api\/v1\/market-analysis\/[^/].*$/, methods: ['GET', 'POST'] },
  { rule: '/api/<path:path>', pattern: /^\/api\/[^/].*$/, methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
];

function matchingRules(request: FastifyRequest) {
  let path = request.url.split('?')[0]!;
  try {
    path = decodeURIComponent(path);
  } catch {
    // werkzeug keeps undecodable escapes as they are
  }
  return RULES.filter((rule) => rule.pattern.test(path));
}

function allowedMethods(rules: ReturnType<typeof matchingRules>): string[] {
  const methods = new Set<string>(['OPTIONS']);
  for (const rule of rules) for (const method of rule.methods) methods.add(method).add(method === 'GET' ? 'HEAD' : method);
  // werkzeug's order comes from a set (it varies between runs); sorted here.
  return [...methods].sort();
}

const NOT_FOUND = 'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.';

export interface Gateway {
  app: FastifyInstance;
  context: GatewayContext;
  close(): Promise<void>;
}

export function buildGateway(settings: Readonly<GatewaySettings>): Gateway {
  // Routed as werkzeug routes: a path value of any length (fastify stops at 100 characters: a 404 where
  // Flask checks permissions first), and an encoded slash that separates segments.
  const app = Fastify({ logger: false, bodyLimit: 50 * 1024 * 1024, keepAliveTimeout: 5000, maxParamLength: MAX_PATH_PARAM, rewriteUrl: (request) => starletteRoutedUrl(request.url ?? '/') });
  const metrics = new GatewayMetrics();
  const context: GatewayContext = {
    settings,
    rbac: loadRbacStore(settings.countyConfigsDir),
    sync: syncUpstream(settings),
    narrator: narratorUpstream(settings),
    metrics,
    jwtSecretKey: settings.jwtSecretKey,
    secretKey: settings.secretKey,
  };

  // Bodies are forwarded byte for byte, so none is parsed on the way in (fastify #1023).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.decorateRequest('flaskSession', null as unknown as RequestSession);
  app.decorateRequest('startedAt', 0n);
  app.addHook('onRequest', async (request) => {
    request.flaskSession = new RequestSession(request.headers.cookie, settings.secretKey);
  });
  // Flask's save_session: Vary: Cookie when the session was looked at, Set-Cookie when it changed.
  app.addHook('onSend', async (request, reply: FastifyReply, payload) => {
    // werkzeug writes the reason phrase in capitals (`404 NOT FOUND`).
    reply.raw.statusMessage = (STATUS_CODES[reply.statusCode] ?? 'UNKNOWN').toUpperCase();
    const session = request.flaskSession;
    if (session?.accessed) reply.header('vary', 'Cookie');
    if (session?.modified) reply.header('set-cookie', sessionSetCookie(session.values, settings.secretKey));
    return payload;
  });
  metrics.install(app);

  app.setNotFoundHandler(async (request, reply) => {
    const rules = matchingRules(request);
    if (rules.length === 0) return sendJsonError(reply, 404, 'Not Found', NOT_FOUND);
    return sendJsonError(reply, 405, 'Method Not Allowed', 'The method is not allowed for the requested URL.').header('allow', allowedMethods(rules).join(', '));
  });
  app.setErrorHandler(async (error, _request, reply) => {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 413) return sendJsonError(reply, 413, 'Request Entity Too Large', 'The data value transmitted exceeds the capacity limit.');
    if (status === 400) return sendJsonError(reply, 400, 'Bad Request', 'The browser (or proxy) sent a request that this server could not understand.');
    return sendJsonError(reply, 500, 'Internal Server Error', error instanceof Error ? error.message : String(error));
  });
  // Flask answers OPTIONS itself on every rule: 200, empty body, the Allow header.
  app.options('*', async (request, reply) => {
    const rules = matchingRules(request);
    if (rules.length === 0) {
      request.metricsRule = '404_not_found';
      return sendJsonError(reply, 404, 'Not Found', NOT_FOUND);
    }
    request.metricsRule = rules[0]!.rule;
    return reply.code(200).header('allow', allowedMethods(rules).join(', ')).header('content-type', 'text/html; charset=utf-8').send('');
  });

  registerHealthRoutes(app, context);
  registerAuthRoutes(app, context);
  registerApiRoutes(app, context);

  return {
    app,
    context,
    close: async () => {
      await app.close();
      await Promise.all([context.sync.close(), context.narrator.close()]);
    },
  };
}
