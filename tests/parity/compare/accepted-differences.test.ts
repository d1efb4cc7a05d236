import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import { ALL_FIXES, DEFAULT_FIXES } from '../../../reimpl/shared/service-env.js';
import { loadAcceptedDifferences } from '../../../parity/compare/accepted-registry.js';
import { compareExchanges, type Exchange } from '../../../parity/compare/engine.js';
import { compareRules } from '../../../parity/compare/rules.js';

const answer = (body: object, status = 200): Exchange => ({ status, headers: {}, body: Buffer.from(JSON.stringify(body)) });
const catalogue = loadRouteCatalogue();
const registry = loadAcceptedDifferences(undefined, new Set(catalogue.routes.map((route) => route.id)));

describe('the accepted differences registry', () => {
  it('names only routes of the catalogue, and its switchable entries are exactly what REIMPL_FIXES knows, with the same defaults', () => {
    const fixes = registry.entries.filter((entry) => entry.fix);
    expect(fixes.map((entry) => entry.id).sort()).toEqual([...ALL_FIXES].sort());
    expect(fixes.filter((entry) => entry.fix!.default === 'on').map((entry) => entry.id).sort()).toEqual([...DEFAULT_FIXES].sort());
  });

  it('absorbs the redacted county password as accepted, and nothing else on the route', async () => {
    const context = { routeId: 'sync.counties.get', rules: catalogue.byId('sync.counties.get')!.compare, accepted: registry.forRoute('sync.counties.get') };
    const legacy = answer({ county_id: 'benton_wa', connection_params: { host: 'db', password: 'hunter2' } });
    const redacted = await compareExchanges(legacy, answer({ county_id: 'benton_wa', connection_params: { host: 'db', password: '********' } }), context);
    expect(redacted).toMatchObject({ verdict: 'matched', accepted: ['county-config-password'] });
    expect(redacted.differences).toEqual([expect.objectContaining({ path: '$.connection_params.password', disposition: { as: 'accepted', id: 'county-config-password' } })]);
    const leakedOther = await compareExchanges(legacy, answer({ county_id: 'benton_wa', connection_params: { host: 'db', password: 'other' } }), context);
    expect(leakedOther.verdict).toBe('mismatched');
    const hostChanged = await compareExchanges(legacy, answer({ county_id: 'benton_wa', connection_params: { host: 'x', password: '********' } }), context);
    expect(hostChanged.verdict).toBe('mismatched');
  });

  it('absorbs the cancel fix only for COMPLETED against CANCELLED', async () => {
    const context = { routeId: 'sync.gis-export.status', rules: compareRules({}), accepted: registry.forRoute('sync.gis-export.status') };
    const legacy = answer({ status: 'COMPLETED', message: 'Export completed successfully' });
    const fixed = await compareExchanges(legacy, answer({ status: 'CANCELLED', message: 'Job cancelled during processing' }), context);
    expect(fixed).toMatchObject({ verdict: 'matched', accepted: ['gis-export-cancel-overwritten'] });
    expect((await compareExchanges(legacy, answer({ status: 'FAILED', message: 'Job cancelled during processing' }), context)).verdict).toBe('mismatched');
  });

  it('refuses a registry entry without a reason, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'accepted-'));
    const file = join(dir, 'accepted.yaml');
    writeFileSync(file, 'version: 1\ndifferences:\n  - { id: x, routes: [sync.health], absorbs: [{ path: $.a }], rule: r, accepted-by: me }\n');
    expect(() => loadAcceptedDifferences(file)).toThrow(expect.objectContaining({ code: 'CUTOVER_ERR_ACCEPTED_DIFFERENCES_INVALID', message: expect.stringContaining('reason') }));
  });
});
