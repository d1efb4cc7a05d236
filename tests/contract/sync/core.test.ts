// Contract: sync service core routes, /health /metrics /counties /properties
// (legacy-contract.md section 1, "Core routes"). /properties is ordered by property_id and
// bounded limit 1..1000 (default 100), offset >= 0, as legacy/terrafusion_sync/app.py documents.
import { describe, expect, it } from 'vitest';
import { sync } from './plugin-jobs.js';

const pydanticNotGe = (field: string, limit: number) => ({
  loc: ['query', field],
  msg: `ensure this value is greater than or equal to ${limit}`,
  type: 'value_error.number.not_ge',
  ctx: { limit_value: limit },
});

describe('sync core routes', () => {
  it('reports health with a real database check, the version and the environment', async () => {
    const reply = await sync('/health');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      status: 'healthy',
      version: '0.1.0',
      database: { status: 'connected', database_type: 'postgresql', message: expect.any(String) },
      environment: expect.any(String),
    });
  });

  it('serves Prometheus text that declares the GIS export metrics', async () => {
    const reply = await sync('/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
    for (const [name, type] of [
      ['gis_export_jobs_submitted_total', 'counter'],
      ['gis_export_jobs_completed_total', 'counter'],
      ['gis_export_jobs_failed_total', 'counter'],
      ['gis_export_processing_duration_seconds', 'histogram'],
      ['gis_export_file_size_kb', 'histogram'],
      ['gis_export_record_count', 'histogram'],
    ]) {
      expect(reply.text).toContain(`# TYPE ${name} ${type}`);
    }
  });

  it('lists the configured counties', async () => {
    const reply = await sync('/counties');
    expect(reply.status).toBe(200);
    const ids = reply.json.map((county: { county_id: string }) => county.county_id);
    expect(ids).toEqual(expect.arrayContaining(['benton_wa', 'franklin_wa', 'test_county']));
    for (const county of reply.json) expect(county).toMatchObject({ county_id: expect.any(String), county_name: expect.any(String) });
  });

  it('describes one county with its leaked legacy password and RBAC counts', async () => {
    const reply = await sync('/counties/benton_wa');
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.json)).toEqual([
      'county_id', 'county_name', 'legacy_system_type', 'connection_params', 'users_count', 'roles_count', 'mappings',
    ]);
    expect(reply.json).toMatchObject({ county_id: 'benton_wa', county_name: 'Benton County', legacy_system_type: 'PACS' });
    expect(reply.json.connection_params.password).toEqual(expect.any(String));
    expect(Number.isInteger(reply.json.users_count)).toBe(true);
    expect(Number.isInteger(reply.json.roles_count)).toBe(true);
    expect(reply.json.mappings).toEqual(expect.any(Object));
  });

  it('answers 404 with a detail for an unknown county', async () => {
    const reply = await sync('/counties/atlantis');
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ detail: 'County atlantis not found' });
  });

  it('lists at most 100 properties by default, as FastAPI serialises them', async () => {
    const reply = await sync('/properties?county_id=test_county');
    expect(reply.status).toBe(200);
    expect(reply.json).toHaveLength(100);
    const row = reply.json[0];
    expect(row.county_id).toBe('test_county');
    // numeric(14,2) goes out as a JSON number (Decimal -> float), dates as ISO, timestamps naive.
    expect(typeof row.assessed_total_value).toBe('number');
    expect(row.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$/);
    if (row.last_sale_date !== null) expect(row.last_sale_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(reply.json.every((p: { county_id: string }) => p.county_id === 'test_county')).toBe(true);
  });

  it('filters by property type and pages with limit and offset', async () => {
    const reply = await sync('/properties?county_id=test_county&property_type=residential&limit=5');
    expect(reply.json.length).toBeGreaterThan(0);
    expect(reply.json.every((p: { property_type: string }) => p.property_type === 'residential')).toBe(true);
    const page = await sync('/properties?county_id=test_county&property_type=residential&limit=2&offset=1');
    expect(page.json.map((p: { property_id: string }) => p.property_id)).toEqual(
      reply.json.slice(1, 3).map((p: { property_id: string }) => p.property_id),
    );
  });

  it('refuses out-of-range paging with pydantic v1 422 lists', async () => {
    expect((await sync('/properties?limit=0')).json).toEqual({ detail: [pydanticNotGe('limit', 1)] });
    const tooMany = await sync('/properties?limit=1001');
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.detail[0]).toMatchObject({ loc: ['query', 'limit'], type: 'value_error.number.not_le' });
    const negative = await sync('/properties?offset=-1');
    expect(negative.status).toBe(422);
    expect(negative.json).toEqual({ detail: [pydanticNotGe('offset', 0)] });
  });

  it('returns one property by id, identical to its row in the list', async () => {
    const [first] = (await sync('/properties?county_id=test_county&limit=1')).json;
    const reply = await sync(`/properties/${first.property_id}`);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual(first);
  });

  it('answers 404 with a detail for an unknown property', async () => {
    const reply = await sync('/properties/no-such-parcel');
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ detail: 'Property with ID no-such-parcel not found' });
  });
});
