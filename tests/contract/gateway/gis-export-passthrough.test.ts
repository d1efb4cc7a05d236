// Contract: the legacy gateway's /api/v1/gis-export/{run,status,results,cancel,list}
// passthroughs to sync's /plugins/v1/gis-export/... (legacy-contract.md section 2).
import { describe, expect, it } from 'vitest';
import { accessTokenOf, call, platform, pollUntil, type Reply } from './gateway-client.js';

// Around the test county's origin (-120.51, 46.6): wide enough to hold all its parcels.
const testCountyArea = {
  type: 'Polygon',
  coordinates: [[[-121.5, 46.0], [-119.5, 46.0], [-119.5, 47.2], [-121.5, 47.2], [-121.5, 46.0]]],
};

function exportRequest(format: string) {
  return { county_id: 'test_county', format, username: 'assessor', area_of_interest: testCountyArea, layers: ['parcels'] };
}

async function direct(path: string): Promise<Reply> {
  return call(path, { baseUrl: platform.syncUrl });
}

async function finished(jobId: string, token: string): Promise<Reply> {
  return pollUntil(
    () => call(`/api/v1/gis-export/status/${jobId}`, { token }),
    (reply) => reply.status === 200 && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(reply.json.status),
    120_000,
  );
}

describe('gateway GIS export passthrough', () => {
  it('runs an export through the gateway and reads status and results as sync has them', async () => {
    const token = await accessTokenOf('assessor');
    const run = await call('/api/v1/gis-export/run', { token, body: exportRequest('GeoJSON') });
    expect(run.status).toBe(200);
    expect(run.json).toMatchObject({ county_id: 'test_county', export_format: 'GeoJSON', status: 'PENDING' });
    const jobId = run.json.job_id as string;

    const status = await finished(jobId, token);
    expect(status.json.status).toBe('COMPLETED');
    expect(status.text).toBe((await direct(`/plugins/v1/gis-export/status/${jobId}`)).text);

    const results = await call(`/api/v1/gis-export/results/${jobId}`, { token: await accessTokenOf('auditor') });
    expect(results.status).toBe(200);
    expect(results.text).toBe((await direct(`/plugins/v1/gis-export/results/${jobId}`)).text);
    expect(results.json.result.record_count).toBeGreaterThan(0);
  });

  it('streams the exported file through the gateway, byte for byte, to users of its county', async () => {
    const token = await accessTokenOf('assessor');
    const run = await call('/api/v1/gis-export/run', { token, body: exportRequest('GeoJSON') });
    const jobId = run.json.job_id as string;
    expect((await finished(jobId, token)).json.status).toBe('COMPLETED');
    const viaGateway = await fetch(`${platform.gatewayUrl}/api/v1/gis-export/download/${jobId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const viaSync = await fetch(`${platform.syncUrl}/plugins/v1/gis-export/download/${jobId}`);
    expect(viaGateway.status).toBe(200);
    expect(viaGateway.headers.get('content-type')).toBe(viaSync.headers.get('content-type'));
    expect(viaGateway.headers.get('content-disposition')).toBe(viaSync.headers.get('content-disposition'));
    expect(Buffer.from(await viaGateway.arrayBuffer()).equals(Buffer.from(await viaSync.arrayBuffer()))).toBe(true);

    const outsider = await call(`/api/v1/gis-export/download/${jobId}`, { token: await accessTokenOf('benton_assessor') });
    expect(outsider.status).toBe(403);
    expect(outsider.json).toEqual({ error: 'Forbidden', message: 'Access denied for county: test_county' });
  });

  it('passes sync’s refusals through: unsupported format, unknown job, cancelling a finished job', async () => {
    const token = await accessTokenOf('assessor');
    const unsupported = await call('/api/v1/gis-export/run', {
      token,
      body: { ...exportRequest('DWG'), county_id: 'franklin_wa' },
    });
    expect(unsupported.status).toBe(400);
    expect(unsupported.json).toEqual({
      detail: "Export format 'DWG' is not supported for county 'franklin_wa'. Supported formats are: GeoJSON, Shapefile, KML",
    });

    const unknown = '00000000-0000-0000-0000-000000000000';
    const missing = await call(`/api/v1/gis-export/status/${unknown}`, { token });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ detail: `GIS export job ${unknown} not found` });

    const run = await call('/api/v1/gis-export/run', { token, body: exportRequest('CSV') });
    const jobId = run.json.job_id as string;
    await finished(jobId, token);
    const cancel = await call(`/api/v1/gis-export/cancel/${jobId}`, { method: 'POST', token });
    const settled = (await direct(`/plugins/v1/gis-export/status/${jobId}`)).json.status as string;
    expect(cancel.status).toBe(400);
    expect(cancel.json).toEqual({ detail: `Cannot cancel job that is already ${settled}` });
  });

  it('cancels a pending job of the user’s county and refuses one of another county', async () => {
    const run = await call('/api/v1/gis-export/run', { token: await accessTokenOf('admin'), body: exportRequest('KML') });
    const jobId = run.json.job_id as string;
    const outsider = await call(`/api/v1/gis-export/cancel/${jobId}`, { method: 'POST', token: await accessTokenOf('benton_assessor') });
    expect(outsider.status).toBe(403);
    expect(outsider.json).toEqual({ error: 'Forbidden', message: 'Access denied for county: test_county' });
    const cancel = await call(`/api/v1/gis-export/cancel/${jobId}`, { method: 'POST', token: await accessTokenOf('assessor') });
    // The job may already have started or finished: sync decides, the gateway passes it on.
    expect([200, 400]).toContain(cancel.status);
    expect(cancel.json).toEqual(expect.objectContaining(cancel.status === 200 ? { job_id: jobId } : { detail: expect.any(String) }));
  });

  it('lists 20 jobs by default and forwards county, status, limit and offset', async () => {
    const token = await accessTokenOf('assessor');
    // FAIL_FORMAT_SIM fails at once: 21 cheap jobs make the default limit visible.
    for (let i = 0; i < 21; i++) {
      const run = await call('/api/v1/gis-export/run', { token, body: exportRequest('FAIL_FORMAT_SIM') });
      expect(run.status).toBe(200);
    }
    const listed = await call('/api/v1/gis-export/list?county_id=test_county', { token });
    expect(listed.status).toBe(200);
    expect(listed.json).toHaveLength(20);
    const all = await direct('/plugins/v1/gis-export/list?county_id=test_county&limit=1000');
    const allIds = new Set((all.json as Array<{ job_id: string }>).map((job) => job.job_id));
    for (const job of listed.json as Array<{ job_id: string; county_id: string }>) {
      expect(job.county_id).toBe('test_county');
      expect(allIds.has(job.job_id)).toBe(true);
    }

    // Other files may add jobs meanwhile: read a page and its neighbour until they agree.
    const ids = (reply: Reply) => (reply.json as Array<{ job_id: string }>).map((job) => job.job_id);
    const { first, shifted } = await pollUntil(
      async () => ({
        first: await call('/api/v1/gis-export/list?county_id=test_county&status=FAILED&limit=3', { token }),
        shifted: await call('/api/v1/gis-export/list?county_id=test_county&status=FAILED&limit=2&offset=1', { token }),
      }),
      ({ first, shifted }) => first.json.length === 3 && JSON.stringify(ids(shifted)) === JSON.stringify(ids(first).slice(1)),
    );
    expect(first.json.map((job: { status: string }) => job.status)).toEqual(['FAILED', 'FAILED', 'FAILED']);
    expect(shifted.json).toHaveLength(2);
  });

  it('passes sync’s 422 through for a limit it refuses', async () => {
    const reply = await call('/api/v1/gis-export/list?limit=0', { token: await accessTokenOf('staff') });
    const viaSync = await direct('/plugins/v1/gis-export/list?limit=0');
    expect(reply.status).toBe(422);
    expect(reply.text).toBe(viaSync.text);
  });
});
