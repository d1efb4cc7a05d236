// Contract: legacy gateway GET /gateway-metrics (legacy-contract.md section 2).
import { describe, expect, it } from 'vitest';
import { call } from './gateway-client.js';

function sampleValue(metrics: string, line: RegExp): number | undefined {
  const found = metrics.split('\n').find((candidate) => line.test(candidate));
  return found === undefined ? undefined : Number(found.split(' ').pop());
}

describe('gateway metrics', () => {
  it('counts requests by method, Flask rule and status', async () => {
    const before = (await call('/gateway-metrics')).text;
    const counter = /^gateway_http_requests_total\{endpoint="\/health\/live",http_status="200",method="GET"\} /;
    const start = sampleValue(before, counter) ?? 0;
    await call('/health/live');
    await call('/health/live');
    const after = (await call('/gateway-metrics')).text;
    expect(sampleValue(after, counter)).toBe(start + 2);
  });

  it('labels a job route by its rule, not by the job id in the URL', async () => {
    await call('/api/v1/gis-export/status/00000000-0000-0000-0000-000000000000');
    const metrics = (await call('/gateway-metrics')).text;
    expect(metrics).toMatch(/gateway_http_requests_total\{endpoint="\/api\/v1\/gis-export\/status\/<job_id>",http_status="401",method="GET"\} \d/);
    expect(metrics).not.toContain('00000000-0000-0000-0000-000000000000');
  });

  it('labels unmatched paths 404_not_found', async () => {
    const reply = await call('/no/such/route');
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ error: 'Not Found', message: expect.any(String) });
    const metrics = (await call('/gateway-metrics')).text;
    expect(metrics).toMatch(/gateway_http_requests_total\{endpoint="404_not_found",http_status="404",method="GET"\} \d/);
  });

  it('answers a wrong method with a JSON 405 that it counts as 404_not_found, as production did', async () => {
    const reply = await call('/auth/login');
    expect(reply.status).toBe(405);
    expect(reply.json).toEqual({ error: 'Method Not Allowed', message: 'The method is not allowed for the requested URL.' });
    const metrics = (await call('/gateway-metrics')).text;
    expect(metrics).toMatch(/gateway_http_requests_total\{endpoint="404_not_found",http_status="405",method="GET"\} \d/);
  });

  it('records request durations as a histogram by method and rule', async () => {
    await call('/health/live');
    const metrics = (await call('/gateway-metrics')).text;
    expect(metrics).toContain('# TYPE gateway_http_request_duration_seconds histogram');
    expect(metrics).toMatch(/gateway_http_request_duration_seconds_bucket\{endpoint="\/health\/live",le="\+Inf",method="GET"\} \d/);
    expect(metrics).toMatch(/gateway_http_request_duration_seconds_count\{endpoint="\/health\/live",method="GET"\} \d/);
  });
});
