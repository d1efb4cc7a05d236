// Contract: the legacy gateway's passthroughs to sync's job plugins (valuation, reporting,
// market-analysis) and its generic /api/<path>: status and body of sync come back unchanged.
import { describe, expect, it } from 'vitest';
import { accessTokenOf, call, platform, pollUntil, type Reply } from './gateway-client.js';

const terminal = ['COMPLETED', 'FAILED', 'CANCELLED'];

async function direct(path: string): Promise<Reply> {
  return call(path, { baseUrl: platform.syncUrl });
}

/** Polls the job's status through the gateway until it is terminal. */
async function settled(plugin: string, jobId: string, token: string): Promise<Reply> {
  return pollUntil(
    () => call(`/api/v1/${plugin}/status/${jobId}`, { token }),
    (reply) => reply.status === 200 && terminal.includes(reply.json.status),
  );
}

describe('gateway job plugin passthroughs', () => {
  it('runs a report through the gateway and reads it back as sync stores it', async () => {
    const token = await accessTokenOf('assessor');
    const run = await call('/api/v1/reporting/run', { token, body: { report_type: 'assessment_roll', county_id: 'test_county' } });
    expect(run.status).toBe(202);
    const id = run.json.report_id as string;
    const status = await settled('reporting', id, token);
    expect(status.text).toBe((await direct(`/plugins/v1/reporting/status/${id}`)).text);
    const results = await call(`/api/v1/reporting/results/${id}`, { token });
    expect(results.status).toBe(200);
    expect(results.text).toBe((await direct(`/plugins/v1/reporting/results/${id}`)).text);
  });

  it('runs a valuation through the gateway and reads its results', async () => {
    const token = await accessTokenOf('assessor');
    const properties = await call('/api/properties?county_id=test_county&limit=1', { token });
    expect(properties.status).toBe(200);
    const propertyId = properties.json[0].property_id as string;
    const run = await call('/api/v1/valuation/run', { token, body: { county_id: 'test_county', property_id: propertyId } });
    expect(run.status).toBe(202);
    const jobId = run.json.job_id as string;
    const status = await settled('valuation', jobId, token);
    expect(status.text).toBe((await direct(`/plugins/v1/valuation/status/${jobId}`)).text);
    const results = await call(`/api/v1/valuation/results/${jobId}`, { token });
    const expected = await direct(`/plugins/v1/valuation/results/${jobId}`);
    expect(results.status).toBe(expected.status);
    expect(results.text).toBe(expected.text);
  });

  it('runs a market analysis through the gateway and reads its status', async () => {
    const token = await accessTokenOf('admin');
    const run = await call('/api/v1/market-analysis/run', { token, body: { analysis_type: 'price_trend_by_zip', county_id: 'test_county' } });
    expect(run.status).toBe(202);
    const jobId = run.json.job_id as string;
    const status = await settled('market-analysis', jobId, token);
    expect(status.text).toBe((await direct(`/plugins/v1/market-analysis/status/${jobId}`)).text);
  });

  it('passes sync’s validation errors through unchanged', async () => {
    const token = await accessTokenOf('assessor');
    const viaGateway = await call('/api/v1/reporting/run', { token, body: { county_id: 'test_county' } });
    const viaSync = await call('/plugins/v1/reporting/run', { baseUrl: platform.syncUrl, body: { county_id: 'test_county' } });
    expect(viaGateway.status).toBe(422);
    expect(viaGateway.text).toBe(viaSync.text);
  });
});

describe('gateway generic /api/<path> passthrough', () => {
  it('forwards path and query to sync and answers its body unchanged', async () => {
    const token = await accessTokenOf('auditor');
    for (const path of ['/counties', '/counties/franklin_wa', '/properties?county_id=test_county&limit=3&offset=2']) {
      const viaGateway = await call(`/api${path}`, { token });
      const viaSync = await direct(path);
      expect.soft(viaGateway.status, path).toBe(viaSync.status);
      expect.soft(viaGateway.text, path).toBe(viaSync.text);
    }
  });

  it('passes sync’s 404 through for a path sync does not have', async () => {
    const reply = await call('/api/no-such-thing', { token: await accessTokenOf('auditor') });
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ detail: 'Not Found' });
  });
});
