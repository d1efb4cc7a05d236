// cutover traffic refuses what would not stop by itself or cannot be a rate, with a named error.
import { describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import { parseDuration } from '../../../src/cli/commands/traffic.js';
import { runTraffic } from '../../../parity/runner/traffic.js';
import { defaultFixturesDir } from '../../../parity/runner/fixture.js';

const base = { catalogue: loadRouteCatalogue(), urls: { sync: 'http://127.0.0.1:9', gateway: 'http://127.0.0.1:9' }, fixturesDir: defaultFixturesDir, passwords: {} };

describe('cutover traffic options', () => {
  it('reads durations as 30s, 2m, 1500ms or plain seconds, and refuses anything else', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1500ms')).toBe(1500);
    expect(parseDuration('45')).toBe(45_000);
    expect(() => parseDuration('soon')).toThrow(expect.objectContaining({ code: 'CUTOVER_ERR_USAGE' }));
  });

  it('refuses a run with neither a duration nor a count, and a rate that is not positive', async () => {
    await expect(runTraffic({ ...base, rate: 10 })).rejects.toMatchObject({ code: 'CUTOVER_ERR_USAGE' });
    await expect(runTraffic({ ...base, rate: 0, count: 5 })).rejects.toMatchObject({ code: 'CUTOVER_ERR_USAGE' });
  });

  it('drives every catalogued route: each has a fixture to take its request shape from', async () => {
    const { TrafficPlan } = await import('../../../parity/runner/traffic-plan.js');
    const { loadFixtures } = await import('../../../parity/runner/fixture.js');
    const plan = new TrafficPlan(base.catalogue, [...loadFixtures(defaultFixturesDir).values()].map((entry) => entry.fixture), { counties: ['benton_wa'], properties: new Map() });
    expect(plan.unreachable.map((route) => route.id)).toEqual([]);
    const seen = new Set<string>();
    for (let i = 0; i < plan.routes.length * 2; i++) seen.add(plan.next().route.id);
    expect([...seen].sort()).toEqual(base.catalogue.routes.map((route) => route.id).sort());
  });
});

describe('cutover traffic --speed', () => {
  it('replays recorded fixtures at a multiple of their pace, a gap between recording sessions cut at 2 s, the set repeated', async () => {
    const { recordedPace } = await import('../../../parity/runner/traffic.js');
    const at = (iso: string) => ({ recordedAt: iso }) as never;
    const pace = recordedPace([at('2026-01-01T00:00:00.000Z'), at('2026-01-01T00:00:00.100Z'), at('2026-01-02T09:00:00.000Z')], 4);
    expect([0, 1, 2].map(pace.offsetOf)).toEqual([0, 25, 525]);
    // The second pass starts one average gap (525 / 3 ms) after the first one's last request.
    expect(pace.offsetOf(3)).toBeCloseTo(525 + 175, 6);
    expect(pace.countWithin(700)).toBe(3);
    expect(pace.countWithin(701)).toBe(4);
  });

  it('refuses a speed that is not a positive multiple', async () => {
    await expect(runTraffic({ ...base, rate: 10, count: 5, speed: 0 })).rejects.toMatchObject({ code: 'CUTOVER_ERR_USAGE' });
  });
});
