// Contract: legacy gateway rbac_required(permission) on every /api/v1/<plugin> route, and
// county scoping (legacy-contract.md section 2; roles in legacy/terrafusion_gateway/README.md).
import { describe, expect, it } from 'vitest';
import { accessTokenOf, call } from './gateway-client.js';

const noJob = '00000000-0000-0000-0000-000000000000';
// Bodies sync rejects with 422 when they get through: the matrix creates no jobs.
const incomplete = { county_id: 'test_county' };

interface GuardedRoute {
  method: 'GET' | 'POST';
  path: string;
  permission: string;
  body?: unknown;
}

const guardedRoutes: GuardedRoute[] = [
  { method: 'POST', path: '/api/v1/gis-export/run', permission: 'run_gis_export', body: incomplete },
  { method: 'GET', path: `/api/v1/gis-export/status/${noJob}`, permission: 'view_gis_export_status' },
  { method: 'GET', path: `/api/v1/gis-export/results/${noJob}`, permission: 'view_gis_export_results' },
  { method: 'POST', path: `/api/v1/gis-export/cancel/${noJob}`, permission: 'run_gis_export' },
  { method: 'GET', path: `/api/v1/gis-export/download/${noJob}`, permission: 'view_gis_export_results' },
  { method: 'GET', path: '/api/v1/gis-export/list?county_id=test_county', permission: 'view_gis_export_status' },
  { method: 'POST', path: '/api/v1/valuation/run', permission: 'execute_valuation', body: incomplete },
  { method: 'GET', path: `/api/v1/valuation/status/${noJob}`, permission: 'view_valuation_results' },
  { method: 'POST', path: '/api/v1/reporting/run', permission: 'generate_report', body: incomplete },
  { method: 'GET', path: `/api/v1/reporting/status/${noJob}`, permission: 'view_reports' },
  { method: 'POST', path: '/api/v1/market-analysis/run', permission: 'run_market_analysis', body: incomplete },
  { method: 'GET', path: `/api/v1/market-analysis/status/${noJob}`, permission: 'view_market_analysis' },
  { method: 'POST', path: '/api/v1/ai/summarize', permission: 'use_ai_narrator', body: {} },
];

const readPermissions = [
  'view_gis_export_status',
  'view_gis_export_results',
  'view_valuation_results',
  'view_reports',
  'view_market_analysis',
];
const runPermissions = ['run_gis_export', 'execute_valuation', 'generate_report', 'run_market_analysis'];

const permissionsOf: Record<string, string[]> = {
  admin: [...readPermissions, ...runPermissions, 'use_ai_narrator'],
  assessor: [...readPermissions, ...runPermissions, 'use_ai_narrator'],
  staff: [...readPermissions, 'use_ai_narrator'],
  auditor: [...readPermissions],
};

describe('gateway RBAC', () => {
  it('asks for authentication on every guarded route before anything else', async () => {
    for (const route of guardedRoutes) {
      const reply = await call(route.path, { method: route.method, body: route.body });
      expect.soft(reply.status, `${route.method} ${route.path}`).toBe(401);
      expect.soft(reply.json, `${route.method} ${route.path}`).toEqual({ error: 'Unauthorized', message: 'Authentication required.' });
    }
  });

  for (const [username, granted] of Object.entries(permissionsOf)) {
    it(`lets ${username} through exactly the routes its role's permissions cover`, async () => {
      const token = await accessTokenOf(username);
      for (const route of guardedRoutes) {
        const reply = await call(route.path, { method: route.method, body: route.body, token });
        const label = `${username} ${route.method} ${route.path}`;
        if (granted.includes(route.permission)) {
          expect.soft([401, 403], label).not.toContain(reply.status);
        } else {
          expect.soft(reply.status, label).toBe(403);
          expect.soft(reply.json, label).toEqual({ error: 'Forbidden', message: `Missing required permission: ${route.permission}` });
        }
      }
    });
  }

  it('passes a permitted call on to sync, whose own answer comes back unchanged', async () => {
    const reply = await call(`/api/v1/reporting/status/${noJob}`, { token: await accessTokenOf('auditor') });
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ detail: `Report job ${noJob} not found` });
  });
});

describe('gateway generic passthrough and plugins', () => {
  it('does not let the generic route reach sync plugins around their permission checks', async () => {
    const token = await accessTokenOf('auditor');
    const reply = await call('/api/plugins/v1/reporting/run', { token, body: { county_id: 'test_county', report_type: 'assessment_roll' } });
    expect(reply.status).toBe(403);
    expect(reply.json).toEqual({ error: 'Forbidden', message: 'Plugin routes are only reachable through /api/v1/<plugin>/...' });
  });
});

describe('gateway county scoping', () => {
  const denied = (county: string) => ({ error: 'Forbidden', message: `Access denied for county: ${county}` });

  it('refuses to start a job in a county outside the user’s counties', async () => {
    const token = await accessTokenOf('benton_assessor');
    for (const path of ['/api/v1/gis-export/run', '/api/v1/reporting/run', '/api/v1/valuation/run']) {
      const reply = await call(path, { token, body: { county_id: 'franklin_wa', report_type: 'assessment_roll', format: 'GeoJSON' } });
      expect.soft(reply.status, path).toBe(403);
      expect.soft(reply.json, path).toEqual(denied('franklin_wa'));
    }
  });

  it('maps the RBAC key of a user’s county to the platform county id', async () => {
    const reply = await call('/api/v1/reporting/run', {
      token: await accessTokenOf('benton_assessor'),
      body: { county_id: 'benton_wa', report_type: 'assessment_roll' },
    });
    expect(reply.status).toBe(202);
    expect(reply.json.county_id).toBe('benton_wa');
  });

  it('refuses to show a job of another county, by the county sync reports for it', async () => {
    const created = await call('/api/v1/reporting/run', {
      token: await accessTokenOf('admin'),
      body: { county_id: 'benton_wa', report_type: 'assessment_roll' },
    });
    expect(created.status).toBe(202);
    const id = created.json.report_id as string;
    const outsider = await call(`/api/v1/reporting/status/${id}`, { token: await accessTokenOf('franklin_staff') });
    expect(outsider.status).toBe(403);
    expect(outsider.json).toEqual(denied('benton_wa'));
    const insider = await call(`/api/v1/reporting/results/${id}`, { token: await accessTokenOf('benton_assessor') });
    expect(insider.status).toBe(200);
    expect(insider.json.report_id).toBe(id);
  });

  it('refuses a county named in the query of a list or a generic call', async () => {
    const token = await accessTokenOf('benton_assessor');
    const list = await call('/api/v1/gis-export/list?county_id=franklin_wa', { token });
    expect(list.status).toBe(403);
    expect(list.json).toEqual(denied('franklin_wa'));
    const properties = await call('/api/properties?county_id=franklin_wa&limit=1', { token });
    expect(properties.status).toBe(403);
    expect(properties.json).toEqual(denied('franklin_wa'));
    const own = await call('/api/properties?county_id=benton_wa&limit=1', { token });
    expect(own.status).toBe(200);
  });

  it('judges every county_id of a query, not only the first', async () => {
    const token = await accessTokenOf('benton_assessor');
    const reply = await call('/api/properties?county_id=benton_wa&county_id=franklin_wa&limit=1', { token });
    expect(reply.status).toBe(403);
    expect(reply.json).toEqual(denied('franklin_wa'));
  });

  it('scopes a county named in the path of a generic call, and records sync returns', async () => {
    const token = await accessTokenOf('benton_assessor');
    const county = await call('/api/counties/franklin_wa', { token });
    expect(county.status).toBe(403);
    expect(county.json).toEqual(denied('franklin_wa'));
    const franklinProperty = await call('/api/properties?county_id=franklin_wa&limit=1', { token: await accessTokenOf('admin') });
    const property = await call(`/api/properties/${franklinProperty.json[0].property_id}`, { token });
    expect(property.status).toBe(403);
    expect(property.json).toEqual(denied('franklin_wa'));
  });

  it('refuses a county it does not know', async () => {
    const reply = await call('/api/v1/reporting/run', {
      token: await accessTokenOf('admin'),
      body: { county_id: 'atlantis_wa', report_type: 'assessment_roll' },
    });
    expect(reply.status).toBe(403);
    expect(reply.json).toEqual(denied('atlantis_wa'));
  });
});
