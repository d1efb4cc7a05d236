// Metrics routes compared as metrics: what a dashboard or an alert is written against (a
// family, its type, its help, its label names, its buckets) must match; the sample values of
// two processes that served different traffic are not compared.
import { describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import { compareExchanges, type Exchange } from '../../../parity/compare/engine.js';
import { parseMetricsText } from '../../../parity/compare/metrics.js';

const catalogue = loadRouteCatalogue();
const contentType = 'text/plain; version=0.0.4; charset=utf-8';
const exposition = (text: string): Exchange => ({ status: 200, headers: { 'content-type': contentType }, body: Buffer.from(text) });

const legacy = `# HELP gateway_http_requests_total Total HTTP requests handled by the gateway
# TYPE gateway_http_requests_total counter
gateway_http_requests_total{endpoint="/health",http_status="200",method="GET"} 3.0
gateway_http_requests_total{endpoint="/auth/login",http_status="401",method="POST"} 1.0
# HELP gateway_http_requests_created Total HTTP requests handled by the gateway
# TYPE gateway_http_requests_created gauge
gateway_http_requests_created{endpoint="/health",http_status="200",method="GET"} 1.7953074397204878e+09
# HELP gateway_request_latency_seconds Request latency
# TYPE gateway_request_latency_seconds histogram
gateway_request_latency_seconds_bucket{endpoint="/health",le="0.005"} 2.0
gateway_request_latency_seconds_bucket{endpoint="/health",le="0.01"} 3.0
gateway_request_latency_seconds_bucket{endpoint="/health",le="+Inf"} 3.0
gateway_request_latency_seconds_count{endpoint="/health"} 3.0
gateway_request_latency_seconds_sum{endpoint="/health"} 0.0123
`;

const compare = (routeId: string, reimpl: string) => {
  const route = catalogue.byId(routeId)!;
  return compareExchanges(exposition(legacy), exposition(reimpl), { routeId, rules: route.compare });
};

describe('metrics compared as metrics', () => {
  it('reads a Prometheus exposition into families with their type, help, label names and buckets', () => {
    const families = parseMetricsText(legacy);
    expect([...families.keys()]).toEqual(['gateway_http_requests_total', 'gateway_http_requests_created', 'gateway_request_latency_seconds']);
    const histogram = families.get('gateway_request_latency_seconds')!;
    expect(histogram.type).toBe('histogram');
    expect([...histogram.labelSets.get('gateway_request_latency_seconds_bucket')!]).toEqual(['endpoint,le']);
    expect([...histogram.bounds].sort()).toEqual(['le=+Inf', 'le=0.005', 'le=0.01']);
  });

  it('matches an exposition whose sample values (and series of other traffic) differ: counts are not parity', async () => {
    const reimpl = legacy.replace('} 3.0\ngateway_http_requests_total{endpoint="/auth/login"', '} 17.0\ngateway_http_requests_total{endpoint="/auth/login"').replace('0.0123', '4.5e-02').replace(/^gateway_http_requests_total\{endpoint="\/auth\/login".*\n/m, '');
    for (const routeId of ['gateway.metrics', 'sync.metrics', 'narrator.metrics']) {
      const comparison = await compare(routeId, reimpl);
      expect(comparison.verdict).toBe('matched');
      expect(comparison.ignoredBy).toEqual([]);
    }
  });

  it('calls a missing metric family a mismatch', async () => {
    const reimpl = legacy.replace(/# HELP gateway_request_latency_seconds [\s\S]*$/, '');
    const comparison = await compare('gateway.metrics', reimpl);
    expect(comparison.verdict).toBe('mismatched');
    expect(comparison.differences).toEqual([expect.objectContaining({ path: '$.gateway_request_latency_seconds', kind: 'missing', disposition: { as: 'mismatch' } })]);
  });

  it('calls a changed type or help text a mismatch', async () => {
    const retyped = await compare('sync.metrics', legacy.replace('# TYPE gateway_http_requests_created gauge', '# TYPE gateway_http_requests_created counter'));
    expect(retyped.verdict).toBe('mismatched');
    expect(retyped.differences.map((difference) => difference.path)).toEqual(['$.gateway_http_requests_created.type']);
    const reworded = await compare('sync.metrics', legacy.replace('Request latency', 'Latency of requests'));
    expect(reworded.differences.map((difference) => difference.path)).toEqual(['$.gateway_request_latency_seconds.help']);
  });

  it('calls a renamed label, or other histogram buckets, a mismatch', async () => {
    const renamed = await compare('narrator.metrics', legacy.replace(/http_status=/g, 'status_code='));
    expect(renamed.verdict).toBe('mismatched');
    expect(renamed.differences).toEqual([expect.objectContaining({ path: '$.gateway_http_requests_total.labels', detail: 'gateway_http_requests_total is labelled differently' }), expect.objectContaining({ path: '$.gateway_http_requests_created.labels' })]);
    const rebucketed = await compare('narrator.metrics', legacy.replace('le="0.01"', 'le="0.025"'));
    expect(rebucketed.differences.map((difference) => difference.path)).toEqual(['$.gateway_request_latency_seconds.buckets']);
  });

  it('calls a body that is not an exposition a mismatch, naming the side', async () => {
    const comparison = await compare('sync.metrics', '{"detail":"Not Found"}');
    expect(comparison.verdict).toBe('mismatched');
    expect(comparison.differences[0]!.detail).toMatch(/^reimplementation: not a Prometheus text exposition/);
  });
});
