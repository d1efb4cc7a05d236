// Contract: reporting's job CRUD through the gateway, /api/v1/reporting/reports[/<id>]
// (legacy-contract.md sections 1b.B and 2): reachable as its neighbours are, with their RBAC:
// creating and updating need generate_report, reading view_reports, and every job is scoped
// to the caller's counties (a PATCH asks sync whose job it is before writing).
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { accessTokenOf, call, platform, type Reply } from './gateway-client.js';

const denied = (county: string) => ({ error: 'Forbidden', message: `Access denied for county: ${county}` });
const direct = (path: string, method = 'GET') => call(path, { baseUrl: platform.syncUrl, method });
const reportTypes = `gw_${process.pid}`;

afterAll(async () => {
  const db = new pg.Client({ connectionString: platform.databaseUrl });
  await db.connect();
  await db.query('DELETE FROM report_jobs WHERE report_type LIKE $1', [`${reportTypes}%`]);
  await db.end();
});

async function createdVia(user: string, countyId: string, reportType = reportTypes): Promise<Reply> {
  const reply = await call('/api/v1/reporting/reports', { token: await accessTokenOf(user), body: { report_type: reportType, county_id: countyId } });
  expect(reply.status).toBe(200);
  return reply;
}

describe('gateway reporting job CRUD', () => {
  it('creates a PENDING job and reads it back with the bytes sync serves', async () => {
    const created = await createdVia('assessor', 'test_county');
    expect(created.json).toMatchObject({ status: 'PENDING', message: null, county_id: 'test_county' });
    const id = created.json.report_id as string;
    const got = await call(`/api/v1/reporting/reports/${id}`, { token: await accessTokenOf('staff') });
    expect(got.status).toBe(200);
    expect(got.text).toBe((await direct(`/plugins/v1/reporting/reports/${id}`)).text);
  });

  it('updates a job with the run permission and passes sync’s answer through', async () => {
    const id = (await createdVia('assessor', 'test_county')).json.report_id as string;
    const patched = await call(`/api/v1/reporting/reports/${id}`, { token: await accessTokenOf('assessor'), method: 'PATCH', body: { status: 'RUNNING', message: 'Rendering' } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ report_id: id, status: 'RUNNING', message: 'Rendering' });
    expect(patched.text).toBe((await direct(`/plugins/v1/reporting/reports/${id}`)).text);
  });

  it('passes sync’s 422 and 404 through, 422 first, for a job that does not exist', async () => {
    const token = await accessTokenOf('assessor');
    const invalid = await call('/api/v1/reporting/reports/no-such-report', { token, method: 'PATCH', body: { status: 'DONE' } });
    expect(invalid.status).toBe(422);
    expect(invalid.json).toEqual({ detail: [{ loc: ['body', 'status'], msg: 'Status must be one of: PENDING, RUNNING, COMPLETED, FAILED', type: 'value_error' }] });
    const missing = await call('/api/v1/reporting/reports/no-such-report', { token, method: 'PATCH', body: { status: 'FAILED' } });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ detail: 'Report job with ID no-such-report not found' });
  });

  it('refuses an update without generate_report, or without a token', async () => {
    const id = (await createdVia('assessor', 'test_county')).json.report_id as string;
    const staff = await call(`/api/v1/reporting/reports/${id}`, { token: await accessTokenOf('staff'), method: 'PATCH', body: { status: 'FAILED' } });
    expect(staff.status).toBe(403);
    expect(staff.json).toEqual({ error: 'Forbidden', message: 'Missing required permission: generate_report' });
    const anonymous = await call(`/api/v1/reporting/reports/${id}`, { method: 'PATCH', body: { status: 'FAILED' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toEqual({ error: 'Unauthorized', message: 'Authentication required.' });
    expect((await direct(`/plugins/v1/reporting/reports/${id}`)).json.status).toBe('PENDING');
  });

  it('refuses to update another county’s job and leaves it as it was', async () => {
    const id = (await createdVia('admin', 'franklin_wa')).json.report_id as string;
    const outsider = await call(`/api/v1/reporting/reports/${id}`, { token: await accessTokenOf('benton_assessor'), method: 'PATCH', body: { status: 'COMPLETED' } });
    expect(outsider.status).toBe(403);
    expect(outsider.json).toEqual(denied('franklin_wa'));
    expect((await direct(`/plugins/v1/reporting/reports/${id}`)).json.status).toBe('PENDING');
  });

  it('refuses to create or read a job of another county', async () => {
    const token = await accessTokenOf('benton_assessor');
    const create = await call('/api/v1/reporting/reports', { token, body: { report_type: reportTypes, county_id: 'franklin_wa' } });
    expect(create.status).toBe(403);
    expect(create.json).toEqual(denied('franklin_wa'));
    const id = (await createdVia('admin', 'franklin_wa')).json.report_id as string;
    const read = await call(`/api/v1/reporting/reports/${id}`, { token });
    expect(read.status).toBe(403);
    expect(read.json).toEqual(denied('franklin_wa'));
  });

  it('lists jobs as sync does for a caller of every county, and only the caller’s counties’ jobs otherwise', async () => {
    const listType = `${reportTypes}_list`;
    const own = await createdVia('admin', 'benton_wa', listType);
    const other = await createdVia('admin', 'franklin_wa', listType);
    const query = `?report_type=${listType}`;
    const all = await call(`/api/v1/reporting/reports${query}`, { token: await accessTokenOf('staff') });
    expect(all.status).toBe(200);
    expect(all.text).toBe((await direct(`/plugins/v1/reporting/reports${query}`)).text);
    expect(all.json.items.map((job: { report_id: string }) => job.report_id)).toEqual([other.json.report_id, own.json.report_id]);

    const scoped = await call(`/api/v1/reporting/reports${query}`, { token: await accessTokenOf('benton_assessor') });
    expect(scoped.status).toBe(200);
    expect(scoped.json).toEqual({ items: [own.json], count: 1 });

    const refused = await call(`/api/v1/reporting/reports${query}&county_id=franklin_wa`, { token: await accessTokenOf('benton_assessor') });
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual(denied('franklin_wa'));
    const anonymous = await call(`/api/v1/reporting/reports${query}`);
    expect(anonymous.status).toBe(401);
  });

  it('passes a list’s 422 through unchanged', async () => {
    const reply = await call('/api/v1/reporting/reports?limit=0', { token: await accessTokenOf('staff') });
    expect(reply.status).toBe(422);
    expect(reply.text).toBe((await direct('/plugins/v1/reporting/reports?limit=0')).text);
  });
});
