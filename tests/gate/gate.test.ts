/** The readiness gate over observations in the in-memory store: verdicts, criteria, thresholds and the failure taxonomy. */
import { describe, expect, it } from 'vitest';
import { runGate, type GateSources } from '../../gate/gate.js';
import { classifyFailure } from '../../gate/failure-taxonomy.js';
import { renderGateText } from '../../gate/render-text.js';
import { thresholdsFor } from '../../gate/thresholds.js';
import { parseRouteCatalogue } from '../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import type { Observation } from '../../proxy/observe/observation.js';
import { configSchema } from '../../src/config/schema.js';
import { observation } from '../proxy/observation-store.contract.js';

const catalogue = parseRouteCatalogue({
  version: 1,
  routes: [
    { id: 'sync.read', service: 'sync', method: 'GET', path: '/read', owner: 'team', writes: false, compare: { ignore: [], headers: [] } },
    { id: 'sync.write', service: 'sync', method: 'POST', path: '/write', owner: 'team', writes: true, compare: { ignore: [], headers: [] } },
    { id: 'sync.lenient', service: 'sync', method: 'GET', path: '/lenient', owner: 'team', writes: false, gate: { minCompared: 10, minParity: 0.5 }, compare: { ignore: [], headers: [] } },
  ],
});

const thresholds = configSchema.parse({}).gate.thresholds;
const now = new Date('2026-01-02T00:00:00Z');
const since = new Date('2026-01-01T00:00:00Z');

/** `count` observations of a route spread over the window's first ten hours, each shaped by `shape(index)`. */
function observations(routeId: string, count: number, shape: (index: number) => Partial<Observation> = () => ({})): Observation[] {
  return Array.from({ length: count }, (_, index) =>
    observation({
      routeId,
      observedAt: new Date(since.getTime() + Math.floor((index * 36_000_000) / count)),
      serving: { side: 'legacy', status: 200, latencyMs: 10 + (index % 7), error: null, body: null },
      shadow: { side: 'reimpl', status: 200, latencyMs: 5 + (index % 5), error: null, body: null },
      ...shape(index),
    }),
  );
}

async function gate(rows: Observation[], request: { route?: string; overrides?: Record<string, number> } = {}) {
  const store = new FakeObservationStore();
  await store.append(rows);
  const sources: GateSources = { observations: store, catalogue, thresholds };
  return runGate(sources, { since, now, ...request });
}

const criterion = (report: Awaited<ReturnType<typeof gate>>, routeId: string, id: string) => report.routes.find((route) => route.routeId === routeId)!.criteria.find((entry) => entry.id === id)!;

describe('the readiness gate', () => {
  it('calls a reimplementation that matches every answer READY above the minimum evidence', async () => {
    const report = await gate(observations('sync.read', 4000));
    expect(report.verdict).toBe('READY');
    expect(report.routes[0]).toMatchObject({ routeId: 'sync.read', verdict: 'READY', failed: [] });
    expect(criterion(report, 'sync.read', 'parity.lower-bound').value).toBeGreaterThan(0.999);
    expect(criterion(report, 'sync.read', 'latency.speed-target')).toMatchObject({ gating: false, status: 'pass' });
    expect(criterion(report, 'sync.read', 'resources.cpu')).toMatchObject({ gating: false, status: 'unmeasured' });
  });

  it('calls the same reimplementation INSUFFICIENT_EVIDENCE below the minimum, and says how many more at what rate', async () => {
    const report = await gate(observations('sync.read', 1000));
    expect(report.routes[0]).toMatchObject({ verdict: 'INSUFFICIENT_EVIDENCE' });
    expect(report.routes[0]!.failed).toContain('evidence.compared');
    expect(report.routes[0]!.failed).toContain('parity.lower-bound');
    const compared = criterion(report, 'sync.read', 'evidence.compared');
    // 1000 compared from the first observation (00:00) to now (24:00): 41.7 an hour, 2838 short.
    expect(compared.needs!.observations).toBe(2838);
    expect(compared.needs!.ratePerHour).toBeCloseTo(1000 / 24, 6);
    expect(compared.needs!.etaMs).toBeCloseTo((2838 / (1000 / 24)) * 3_600_000, 0);
    expect(renderGateText(report)).toMatch(/needs 2,838 more compared observations, about 3d at the current 41\.7\/h/);
  });

  it('calls a reimplementation that mismatches 1% of answers NOT_READY, naming parity', async () => {
    const report = await gate(observations('sync.read', 4000, (index) => (index % 100 === 0 ? { verdict: 'mismatched' } : {})));
    expect(report.routes[0]).toMatchObject({ verdict: 'NOT_READY', failed: ['parity.lower-bound'] });
    expect(criterion(report, 'sync.read', 'parity.lower-bound').status).toBe('fail');
    expect(report.verdict).toBe('NOT_READY');
  });

  it('never counts ignored observations as parity, and fails a route mostly ignored', async () => {
    const report = await gate(observations('sync.read', 4000, (index) => (index % 10 === 0 ? { verdict: 'ignored', ignoredBy: ['$.x'] } : {})));
    expect(criterion(report, 'sync.read', 'evidence.compared').value).toBe(3600);
    expect(criterion(report, 'sync.read', 'evidence.ignored')).toMatchObject({ value: 0.1, status: 'fail' });
    expect(report.routes[0]).toMatchObject({ verdict: 'NOT_READY', failed: ['evidence.ignored'] });
  });

  it('fails a reimplementation that answers 500 more often than legacy, and counts its failures by class', async () => {
    const report = await gate(
      observations('sync.read', 4000, (index) =>
        index % 33 === 0 ? { verdict: 'errored', erroredSide: 'shadow', shadow: { side: 'reimpl', status: 500, latencyMs: 3, error: null, body: null } } : {},
      ),
    );
    expect(report.routes[0]!.failed).toEqual(expect.arrayContaining(['errors.no-increase', 'errors.ceiling']));
    expect(report.routes[0]!.evidence.sides.reimpl).toMatchObject({ trials: 4000, errors: 122, failures: { '5xx': 122 } });
    expect(report.routes[0]!.evidence.sides.legacy).toMatchObject({ errors: 0 });
    expect(criterion(report, 'sync.read', 'errors.no-increase').detail).toContain('CUTOVER_FAIL_5XX×122');
  });

  it('counts a client abort as a failure class but never as the side erring', async () => {
    const report = await gate(observations('sync.read', 10, (index) => (index < 3 ? { verdict: 'errored', erroredSide: 'shadow', shadow: { side: 'reimpl', status: 200, latencyMs: 3, error: 'CUTOVER_ERR_CLIENT_ABORTED', body: null } } : {})));
    expect(report.routes[0]!.evidence.sides.reimpl).toEqual({ trials: 7, errors: 0, failures: { 'client-abort': 3 } });
  });

  it('fails a reimplementation that is slower, and says the samples were concurrent copies', async () => {
    const report = await gate(observations('sync.read', 4000, (index) => ({ shadow: { side: 'reimpl', status: 200, latencyMs: 13 + (index % 5), error: null, body: null } })));
    expect(report.routes[0]!.failed).toEqual(['latency.not-slower', 'latency.p99-ratio']);
    expect(report.routes[0]!.evidence.latency.basis).toBe('concurrent-copies');
    expect(criterion(report, 'sync.read', 'latency.not-slower').detail).toContain('concurrent copies of the same requests');
  });

  it('judges latency on the canary split once both shares have enough samples', async () => {
    const report = await gate(
      observations('sync.read', 400, (index) => {
        const reimplServes = index % 2 === 0;
        const reimpl = { side: 'reimpl' as const, status: 200, latencyMs: 4, error: null, body: null };
        const legacy = { side: 'legacy' as const, status: 200, latencyMs: 9, error: null, body: null };
        return { mode: 'canary', serving: reimplServes ? reimpl : legacy, shadow: reimplServes ? legacy : reimpl };
      }),
      { overrides: { minCompared: 100, minParity: 0.99 } },
    );
    expect(report.routes[0]!.evidence.latency).toEqual({ basis: 'canary-split', legacySamples: 200, reimplSamples: 200 });
    expect(report.routes[0]!.failed).toEqual([]);
    expect(report.routes[0]!.verdict).toBe('READY');
  });

  it('counts the state-parity observations of a writing route as its evidence', async () => {
    const report = await gate([...observations('sync.write', 2000), ...observations('sync.write.state', 2000, () => ({ method: 'STATE' }))], { route: 'sync.write' });
    expect(criterion(report, 'sync.write', 'evidence.compared')).toMatchObject({ value: 4000, status: 'pass' });
    expect(report.routes[0]!.evidence.stateObservations).toBe(2000);
  });

  it('lists the accepted differences it counted as matched', async () => {
    const accepted = { path: '$.n', serving: '1.0', shadow: '1', disposition: { as: 'accepted' as const, id: 'sync.float-text' } };
    const report = await gate(observations('sync.read', 40, (index) => (index < 3 ? { differences: [accepted] } : {})), { overrides: { minCompared: 10, minParity: 0.5 } });
    expect(criterion(report, 'sync.read', 'parity.lower-bound').detail).toContain('sync.float-text (3)');
  });

  it('takes thresholds from the config, then the route, then the command line', async () => {
    const lenient = catalogue.byId('sync.lenient')!;
    expect(thresholdsFor(thresholds, lenient)).toMatchObject({ minCompared: 10, minParity: 0.5, maxErrorRate: 0.01 });
    expect(thresholdsFor(thresholds, lenient, { minCompared: 20, minParity: undefined })).toMatchObject({ minCompared: 20, minParity: 0.5 });
    const report = await gate(observations('sync.lenient', 200), { route: 'sync.lenient', overrides: { minLatencySamples: 50, maxErrorRate: 0.05 } });
    expect(report.routes[0]).toMatchObject({ verdict: 'READY', thresholds: { minCompared: 10, minLatencySamples: 50 } });
  });

  it('selects by glob, and is never READY with nothing selected', async () => {
    expect((await gate([], { route: 'sync.*' })).routes.map((route) => route.routeId)).toEqual(['sync.read', 'sync.write', 'sync.lenient']);
    const empty = await gate([]);
    expect(empty).toMatchObject({ verdict: 'INSUFFICIENT_EVIDENCE', routes: [] });
  });

  it('refuses a bad route gate in the catalogue with a named error', () => {
    expect(() =>
      parseRouteCatalogue({ version: 1, routes: [{ id: 'sync.x', service: 'sync', method: 'GET', path: '/x', owner: 'o', writes: false, gate: { minParity: 2 }, compare: { ignore: [], headers: [] } }] }),
    ).toThrow(expect.objectContaining({ code: 'CUTOVER_ERR_ROUTES_INVALID' }));
  });
});

describe('the failure taxonomy', () => {
  it.each([
    [{ status: 503, error: null }, undefined, '5xx'],
    [{ status: null, error: 'CUTOVER_ERR_UPSTREAM_UNREACHABLE' }, undefined, 'connection-refused'],
    [{ status: null, error: 'CUTOVER_ERR_UPSTREAM_TIMEOUT' }, undefined, 'timeout-headers'],
    [{ status: 200, error: 'CUTOVER_ERR_UPSTREAM_TIMEOUT' }, undefined, 'timeout-body'],
    [{ status: null, error: 'CUTOVER_ERR_SHADOW_TIMEOUT' }, undefined, 'timeout-headers'],
    [{ status: null, error: 'CUTOVER_ERR_UPSTREAM_FAILED' }, undefined, 'connection-reset'],
    [{ status: null, error: 'CUTOVER_ERR_UPSTREAM_FAILED' }, 'HPE_INVALID_CONSTANT', 'protocol'],
    [{ status: null, error: 'CUTOVER_ERR_UPSTREAM_FAILED' }, 'UND_ERR_ABORTED', 'client-abort'],
    [{ status: 200, error: 'CUTOVER_FAIL_BODY_OVER_BOUND' }, undefined, 'body-over-bound'],
    [{ status: null, error: 'CUTOVER_ERR_UPSTREAM_MALFORMED' }, undefined, 'protocol'],
    [{ status: 200, error: 'CUTOVER_ERR_CLIENT_ABORTED' }, undefined, 'client-abort'],
    [{ status: null, error: 'SOMETHING_ELSE' }, undefined, 'unclassified'],
  ] as const)('classifies %j (cause %s) as %s', (side, cause, expected) => {
    expect(classifyFailure(side, cause)).toBe(expected);
  });
});
