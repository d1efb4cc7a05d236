// Contract: reporting's job CRUD, POST/GET/PATCH /plugins/v1/reporting/reports[/{id}]
// (legacy-contract.md section 1b.B): jobs created PENDING and left so until PATCHed, one id
// space with /run, /status and /results, `count` as the page's length, 422 before 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureCounty, naiveUtc, sync, uuid4, type Reply } from './plugin-jobs.js';

const prefix = '/plugins/v1/reporting';
let county: FixtureCounty;

beforeAll(async () => {
  county = await FixtureCounty.create('reports');
});

afterAll(async () => {
  await county?.query('DELETE FROM report_jobs WHERE county_id LIKE $1', [`${county.countyId}%`]);
  await county?.drop();
});

const create = (body: unknown) => sync(`${prefix}/reports`, { body });
const patch = (id: string, body: unknown) => sync(`${prefix}/reports/${id}`, { method: 'PATCH', body });
const list = (query: string) => sync(`${prefix}/reports?${query}`);

async function created(reportType: string, countyId = county.countyId, parameters?: unknown): Promise<Reply> {
  const reply = await create({ report_type: reportType, county_id: countyId, ...(parameters === undefined ? {} : { parameters }) });
  expect(reply.status).toBe(200);
  return reply;
}

const statusIssue = { loc: ['body', 'status'], msg: 'Status must be one of: PENDING, RUNNING, COMPLETED, FAILED', type: 'value_error' };

describe('reporting job CRUD', () => {
  it('creates a PENDING job without a message and answers 200 with it', async () => {
    // Raw text: JSON.stringify would send 1.0 as 1.
    const reply = await sync(`${prefix}/reports`, {
      body: `{"report_type":"assessment_roll","county_id":"${county.countyId}","parameters":{"year":2025,"ratio":1.0}}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      report_id: expect.stringMatching(uuid4),
      report_type: 'assessment_roll',
      county_id: county.countyId,
      status: 'PENDING',
      message: null,
      parameters: { year: 2025, ratio: 1 },
      created_at: expect.stringMatching(naiveUtc),
      updated_at: reply.json.created_at,
      started_at: null,
      completed_at: null,
      result_location: null,
      result_metadata: null,
    });
    expect(Object.keys(reply.json)).toEqual([
      'report_id', 'report_type', 'county_id', 'status', 'message', 'parameters', 'created_at', 'updated_at',
      'started_at', 'completed_at', 'result_location', 'result_metadata',
    ]);
    expect(reply.text).toContain('"parameters":{"year":2025,"ratio":1.0}');
  });

  it('leaves a created job PENDING: GET and /status answer the same bytes, /results refuses it', async () => {
    const job = await created('roll');
    const id = job.json.report_id;
    const got = await sync(`${prefix}/reports/${id}`);
    expect(got.status).toBe(200);
    expect(got.text).toBe(job.text);
    expect((await sync(`${prefix}/status/${id}`)).text).toBe(job.text);
    const results = await sync(`${prefix}/results/${id}`);
    expect(results.status).toBe(400);
    expect(results.json).toEqual({ detail: `Report job ${id} is not completed (current status: PENDING)` });
  });

  it('serves /run jobs through GET /reports/{id}', async () => {
    const run = await sync(`${prefix}/run`, { body: { report_type: 'value_summary', county_id: `${county.countyId}_run` } });
    expect(run.status).toBe(202);
    const got = await sync(`${prefix}/reports/${run.json.report_id}`);
    expect(got.status).toBe(200);
    expect(got.text).toBe(run.text);
  });

  it('answers 404 for an unknown report on GET and PATCH', async () => {
    const got = await sync(`${prefix}/reports/no-such-report`);
    expect(got.status).toBe(404);
    expect(got.json).toEqual({ detail: 'Report job with ID no-such-report not found' });
    const patched = await patch('no-such-report', { status: 'RUNNING' });
    expect(patched.status).toBe(404);
    expect(patched.json).toEqual({ detail: 'Report job with ID no-such-report not found' });
  });

  it('validates the PATCH body before looking the job up: 422 even for an unknown id', async () => {
    for (const status of ['DONE', 'completed', 5]) {
      const reply = await patch('no-such-report', { status });
      expect(reply.status).toBe(422);
      expect(reply.json).toEqual({ detail: [statusIssue] });
    }
    const missing = await patch('no-such-report', { message: 'x' });
    expect(missing.json).toEqual({ detail: [{ loc: ['body', 'status'], msg: 'field required', type: 'value_error.missing' }] });
    const wrong = await patch('no-such-report', { status: 'RUNNING', result_metadata: [1], result_location: 'l'.repeat(256) });
    expect(wrong.json).toEqual({
      detail: [
        { loc: ['body', 'result_location'], msg: 'ensure this value has at most 255 characters', type: 'value_error.any_str.max_length', ctx: { limit_value: 255 } },
        { loc: ['body', 'result_metadata'], msg: 'value is not a valid dict', type: 'type_error.dict' },
      ],
    });
  });

  it('moves a job through any transition, stamping started_at once per RUNNING and completed_at on every end', async () => {
    const id = (await created('lifecycle')).json.report_id;
    const running = await patch(id, { status: 'RUNNING', message: 'Rendering' });
    expect(running.status).toBe(200);
    expect(running.json).toMatchObject({ status: 'RUNNING', message: 'Rendering', started_at: expect.stringMatching(naiveUtc), completed_at: null });
    expect(running.json.updated_at).toBe(running.json.started_at);

    const again = await patch(id, { status: 'RUNNING', message: null });
    expect(again.json).toMatchObject({ status: 'RUNNING', message: 'Rendering', started_at: running.json.started_at });
    expect(again.json.updated_at).not.toBe(running.json.updated_at);

    const done = await patch(id, { status: 'COMPLETED', result_location: 's3://reports/a.pdf', result_metadata: { pages: 3, size: 1.5 } });
    expect(done.json).toMatchObject({
      status: 'COMPLETED', message: 'Rendering', started_at: running.json.started_at, completed_at: done.json.updated_at,
      result_location: 's3://reports/a.pdf', result_metadata: { pages: 3, size: 1.5 },
    });
    expect(done.text).toContain('"result_metadata":{"pages":3,"size":1.5}');

    // An empty location or metadata never clears what the job has; a final state stamps completed_at again.
    const failed = await patch(id, { status: 'FAILED', message: 'Printer on fire', result_location: '', result_metadata: {} });
    expect(failed.json).toMatchObject({ status: 'FAILED', message: 'Printer on fire', result_location: 's3://reports/a.pdf', result_metadata: { pages: 3, size: 1.5 } });
    expect(failed.json.completed_at).not.toBe(done.json.completed_at);

    const back = await patch(id, { status: 'PENDING' });
    expect(back.json).toMatchObject({ status: 'PENDING', started_at: running.json.started_at, completed_at: failed.json.completed_at });
    const rerun = await patch(id, { status: 'RUNNING' });
    expect(rerun.json.started_at).not.toBe(running.json.started_at);
    expect((await sync(`${prefix}/status/${id}`)).text).toBe(rerun.text);
  });

  it('serves /results of a PATCHed job: its result when it has a location, metadata {} when none, null without a location', async () => {
    const withAll = (await created('results')).json.report_id;
    await patch(withAll, { status: 'COMPLETED', result_location: 's3://r/1.pdf', result_metadata: { pages: 1 } });
    expect((await sync(`${prefix}/results/${withAll}`)).json.result).toEqual({ result_location: 's3://r/1.pdf', result_metadata: { pages: 1 } });

    const noMetadata = (await created('results')).json.report_id;
    await patch(noMetadata, { status: 'COMPLETED', result_location: 's3://r/2.pdf' });
    expect((await sync(`${prefix}/results/${noMetadata}`)).json.result).toEqual({ result_location: 's3://r/2.pdf', result_metadata: {} });

    const noLocation = (await created('results', county.countyId, { q: 1 })).json.report_id;
    const done = await patch(noLocation, { status: 'COMPLETED' });
    const results = await sync(`${prefix}/results/${noLocation}`);
    expect(results.status).toBe(200);
    expect(results.json).toEqual({
      report_id: noLocation, report_type: 'results', county_id: county.countyId, status: 'COMPLETED', message: null,
      parameters: { q: 1 }, created_at: done.json.created_at, completed_at: done.json.completed_at, result: null,
    });
  });

  it('rejects a create body as /run does, with pydantic v1 422s', async () => {
    const missing = await create({ county_id: county.countyId });
    expect(missing.status).toBe(422);
    expect(missing.json).toEqual({ detail: [{ loc: ['body', 'report_type'], msg: 'field required', type: 'value_error.missing' }] });
    const long = await create({ report_type: 'r', county_id: 'c'.repeat(51) });
    expect(long.json).toEqual({
      detail: [{ loc: ['body', 'county_id'], msg: 'ensure this value has at most 50 characters', type: 'value_error.any_str.max_length', ctx: { limit_value: 50 } }],
    });
  });
});

describe('GET /plugins/v1/reporting/reports', () => {
  let ids: string[];
  let createdAt: string[];

  beforeAll(async () => {
    // Oldest first: a, b, a (report types), in a county of their own.
    const countyId = `${county.countyId}_list`;
    const jobs = [await created('type_a', countyId), await created('type_b', countyId), await created('type_a', countyId)];
    ids = jobs.map((job) => job.json.report_id);
    createdAt = jobs.map((job) => job.json.created_at);
    await patch(ids[1]!, { status: 'COMPLETED' });
  });

  const idsOf = (reply: Reply) => reply.json.items.map((item: { report_id: string }) => item.report_id);
  const inCounty = () => `county_id=${county.countyId}_list`;

  it('lists a county newest first, with count the length of the page', async () => {
    const all = await list(inCounty());
    expect(all.status).toBe(200);
    expect(Object.keys(all.json)).toEqual(['items', 'count']);
    expect(idsOf(all)).toEqual([ids[2], ids[1], ids[0]]);
    expect(all.json.count).toBe(3);
    expect(all.json.items[0]).toEqual((await sync(`${prefix}/reports/${ids[2]}`)).json);

    const page = await list(`${inCounty()}&limit=1&offset=1`);
    expect(idsOf(page)).toEqual([ids[1]]);
    expect(page.json.count).toBe(1);
    expect((await list(`${inCounty()}&offset=3`)).json).toEqual({ items: [], count: 0 });
  });

  it('filters exactly and case-sensitively by report type and status', async () => {
    expect(idsOf(await list(`${inCounty()}&report_type=type_a`))).toEqual([ids[2], ids[0]]);
    expect((await list(`${inCounty()}&report_type=TYPE_A`)).json).toEqual({ items: [], count: 0 });
    expect((await list(`${inCounty()}&report_type=type`)).json.count).toBe(0);
    expect(idsOf(await list(`${inCounty()}&status=COMPLETED`))).toEqual([ids[1]]);
    expect(idsOf(await list(`${inCounty()}&status=PENDING&report_type=type_a&limit=1`))).toEqual([ids[2]]);
    expect((await list(`${inCounty()}&status=pending`)).json.count).toBe(0);
  });

  it('keeps jobs created at or after a naive created_after', async () => {
    expect(idsOf(await list(`${inCounty()}&created_after=${createdAt[1]}`))).toEqual([ids[2], ids[1]]);
    expect(idsOf(await list(`${inCounty()}&created_after=2000-01-01 00:00`))).toEqual([ids[2], ids[1], ids[0]]);
    expect((await list(`${inCounty()}&created_after=9999-01-01T00:00:00`)).json.count).toBe(0);
  });

  it('answers 500 for a zone-aware created_after (a Unix time is one too)', async () => {
    for (const value of ['2025-01-01T00:00:00Z', '2025-01-01T00:00:00%2B02:00', '1700000000']) {
      const reply = await list(`${inCounty()}&created_after=${value}`);
      expect(reply.status).toBe(500);
      expect(reply.json).toEqual({ detail: "Failed to list report jobs: can't compare offset-naive and offset-aware datetimes" });
    }
  });

  it('answers 500 with psycopg2’s refusal for a filter holding NUL (the driver refuses it before PostgreSQL sees it)', async () => {
    for (const query of ['county_id=%00', `county_id=${county.countyId}&report_type=a%00b`, 'status=%00PENDING']) {
      const reply = await list(query);
      expect(reply.status).toBe(500);
      expect(reply.json).toEqual({ detail: 'Failed to list report jobs: A string literal cannot contain NUL (0x00) characters.' });
    }
  });

  it('refuses a created_after that is no datetime and limits outside 1..1000 or a negative offset', async () => {
    const reply = await list('created_after=2025-02-30T00:00&limit=0&offset=-1');
    expect(reply.status).toBe(422);
    expect(reply.json).toEqual({
      detail: [
        { loc: ['query', 'created_after'], msg: 'invalid datetime format', type: 'value_error.datetime' },
        { loc: ['query', 'limit'], msg: 'ensure this value is greater than or equal to 1', type: 'value_error.number.not_ge', ctx: { limit_value: 1 } },
        { loc: ['query', 'offset'], msg: 'ensure this value is greater than or equal to 0', type: 'value_error.number.not_ge', ctx: { limit_value: 0 } },
      ],
    });
    const high = await list('limit=1001');
    expect(high.json).toEqual({
      detail: [{ loc: ['query', 'limit'], msg: 'ensure this value is less than or equal to 1000', type: 'value_error.number.not_le', ctx: { limit_value: 1000 } }],
    });
    for (const value of ['2025-01-01', 'yesterday', '2025-01-01T24:00']) {
      expect((await list(`created_after=${value}`)).json.detail[0].msg).toBe('invalid datetime format');
    }
  });

  it('lists /run jobs beside created ones: one id space', async () => {
    const countyId = `${county.countyId}_mixed`;
    const run = await sync(`${prefix}/run`, { body: { report_type: 'value_summary', county_id: countyId } });
    const made = await created('value_summary', countyId);
    const reply = await list(`county_id=${countyId}`);
    expect(idsOf(reply)).toEqual([made.json.report_id, run.json.report_id]);
    expect(reply.json.items[1].status).toBe('COMPLETED');
  });
});
