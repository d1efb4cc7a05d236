// Contract: the gateway's /api/v1/market-analysis/... passthrough (legacy-contract.md section
// 2) reaches sync's /plugins/market-analysis routes (section 1b.D) by their doubled mount,
// /plugins/v1/market-analysis/plugins/market-analysis/*, with the RBAC of its neighbours:
// run_market_analysis for POST, view_market_analysis for GET, and the caller's counties.
import { describe, expect, it } from 'vitest';
import { accessTokenOf, call, platform, pollUntil, type Reply } from './gateway-client.js';

const door = '/api/v1/market-analysis/plugins/market-analysis';
const noJob = '00000000-0000-0000-0000-000000000000';
const denied = (county: string) => ({ error: 'Forbidden', message: `Access denied for county: ${county}` });

function direct(path: string): Promise<Reply> {
  return call(path, { baseUrl: platform.syncUrl });
}

async function runThroughGateway(token: string, county: string): Promise<string> {
  const run = await call(`${door}/run`, { token, body: { county_id: county, analysis_type: 'price_per_sqft', parameters: {} } });
  expect(run.status).toBe(202);
  expect(run.json).toEqual({ job_id: expect.any(String), status: 'PENDING', message: 'Job created and queued for processing' });
  const id = run.json.job_id as string;
  await pollUntil(() => direct(`/plugins/market-analysis/status/${id}`), (r) => !['PENDING', 'RUNNING'].includes(r.json.status));
  return id;
}

describe('gateway passthrough to /plugins/market-analysis', () => {
  it('runs a study and reads status, results, list and cancel exactly as sync answers them', async () => {
    const token = await accessTokenOf('assessor');
    const id = await runThroughGateway(token, 'test_county');
    for (const route of [`status/${id}`, `results/${id}`, 'list?county_id=test_county&limit=2', 'health']) {
      const viaGateway = await call(`${door}/${route}`, { token });
      const viaSync = await direct(`/plugins/market-analysis/${route}`);
      expect.soft(viaGateway.status, route).toBe(200);
      if (route === 'health') expect.soft(viaGateway.json.name, route).toBe('Market Analysis Plugin');
      else expect.soft(viaGateway.text, route).toBe(viaSync.text);
    }
    const cancel = await call(`${door}/cancel/${id}`, { token, method: 'POST' });
    expect(cancel.status).toBe(400);
    expect(cancel.json).toEqual({ detail: 'Job cannot be cancelled. It may be completed, failed, or not found.' });
    const invalid = await call(`${door}/run`, { token, body: { county_id: 'test_county', analysis_type: 'sales_velocity' } });
    expect(invalid.status).toBe(422);
    expect(invalid.json).toEqual({ detail: [{ loc: ['body', 'parameters'], msg: 'field required', type: 'value_error.missing' }] });
  });

  it('asks for authentication, then run_market_analysis to write and view_market_analysis to read', async () => {
    const routes = [
      { method: 'POST', path: `${door}/run`, permission: 'run_market_analysis', body: { county_id: 'test_county' } },
      { method: 'POST', path: `${door}/cancel/${noJob}`, permission: 'run_market_analysis' },
      { method: 'GET', path: `${door}/status/${noJob}`, permission: 'view_market_analysis' },
      { method: 'GET', path: `${door}/results/${noJob}`, permission: 'view_market_analysis' },
      { method: 'GET', path: `${door}/list?county_id=test_county`, permission: 'view_market_analysis' },
      { method: 'GET', path: `${door}/health`, permission: 'view_market_analysis' },
    ] as const;
    const staff = await accessTokenOf('staff');
    for (const route of routes) {
      const label = `${route.method} ${route.path}`;
      const anonymous = await call(route.path, { method: route.method, body: 'body' in route ? route.body : undefined });
      expect.soft(anonymous.status, label).toBe(401);
      expect.soft(anonymous.json, label).toEqual({ error: 'Unauthorized', message: 'Authentication required.' });
      const reply = await call(route.path, { method: route.method, body: 'body' in route ? route.body : undefined, token: staff });
      if (route.permission === 'run_market_analysis') {
        expect.soft(reply.status, label).toBe(403);
        expect.soft(reply.json, label).toEqual({ error: 'Forbidden', message: 'Missing required permission: run_market_analysis' });
      } else {
        expect.soft([401, 403], label).not.toContain(reply.status);
      }
    }
  });

  it('keeps a caller to its counties: the county it runs in, the job it reads, the jobs it lists', async () => {
    const outsider = await accessTokenOf('franklin_staff');
    const run = await call(`${door}/run`, { token: await accessTokenOf('benton_assessor'), body: { county_id: 'franklin_wa', analysis_type: 'price_per_sqft', parameters: {} } });
    expect(run.status).toBe(403);
    expect(run.json).toEqual(denied('franklin_wa'));

    const id = await runThroughGateway(await accessTokenOf('benton_assessor'), 'benton_wa');
    const status = await call(`${door}/status/${id}`, { token: outsider });
    expect(status.status).toBe(403);
    expect(status.json).toEqual(denied('benton_wa'));
    expect((await call(`${door}/list?county_id=benton_wa`, { token: outsider })).json).toEqual(denied('benton_wa'));
    // A cancel names no county: the job's is asked first, as for a GIS export cancel.
    const elsewhere = await runThroughGateway(await accessTokenOf('assessor'), 'test_county');
    const cancel = await call(`${door}/cancel/${elsewhere}`, { token: await accessTokenOf('benton_assessor'), method: 'POST' });
    expect(cancel.status).toBe(403);
    expect(cancel.json).toEqual(denied('test_county'));

    // Unfiltered, sync lists every county's jobs; the caller sees its own counties' only.
    const all = await direct('/plugins/market-analysis/list?limit=1000');
    expect(all.json.jobs.some((job: { job_id: string }) => job.job_id === id)).toBe(true);
    const visible = await call(`${door}/list?limit=1000`, { token: outsider });
    expect(visible.status).toBe(200);
    expect(visible.json.count).toBe(visible.json.jobs.length);
    expect(visible.json.jobs.filter((job: { county_id: string }) => job.county_id !== 'franklin_wa')).toEqual([]);
  });
});
