/**
 * Prometheus metrics served at /gateway-metrics, as legacy/terrafusion_gateway/metrics.py:
 * `gateway_http_requests_total{method,endpoint,http_status}` and
 * `gateway_http_request_duration_seconds{method,endpoint}`; `endpoint` is the Flask rule, or
 * `404_not_found` when no rule matched (405s included, as in production).
 */
import type { FastifyInstance } from 'fastify';
import { PROMETHEUS_CONTENT_TYPE, PyCounter, PyHistogram, renderPythonExposition } from '../shared/python-prometheus.js';

export class GatewayMetrics {
  readonly requests = new PyCounter('gateway_http_requests_total', 'Total HTTP requests handled by the gateway', ['method', 'endpoint', 'http_status']);
  readonly duration = new PyHistogram('gateway_http_request_duration_seconds', 'HTTP request duration in seconds', ['method', 'endpoint']);

  install(app: FastifyInstance): void {
    app.addHook('onRequest', async (request) => {
      request.startedAt = process.hrtime.bigint();
    });
    app.addHook('onResponse', async (request, reply) => {
      // 404s and 405s are answered by the not-found handler, which carries no rule.
      const endpoint = request.metricsRule ?? request.routeOptions.config?.rule ?? '404_not_found';
      this.requests.inc({ method: request.method, endpoint, http_status: String(reply.statusCode) });
      this.duration.observe({ method: request.method, endpoint }, Number(process.hrtime.bigint() - request.startedAt) / 1e9);
    });
    app.get('/gateway-metrics', { config: { rule: '/gateway-metrics' } }, async (_request, reply) =>
      reply.header('content-type', PROMETHEUS_CONTENT_TYPE).send(await renderPythonExposition([this.requests, this.duration])),
    );
  }
}
