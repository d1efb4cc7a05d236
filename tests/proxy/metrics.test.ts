import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestProxy, startUpstreams, type ProxyUnderTest, type TestUpstream, type Upstreams } from './harness.js';

let upstreams: Upstreams;
let subject: ProxyUnderTest;
let exposition: string;

beforeAll(async () => {
  upstreams = await startUpstreams();
  subject = await startTestProxy(upstreams);
  subject.flags.set('sync.health', 'shadow');
  subject.flags.set('sync.echo', 'canary', 30);
  await call(`${subject.url}/health`);
  await call(`${subject.url}/nowhere`);
  await eventually(async () => ((await subject.proxy.metrics.registry.metrics()).includes('cutover_proxy_shadow_verdicts_total{') ? true : undefined));
  exposition = await subject.proxy.metrics.registry.metrics();
});
afterAll(async () => {
  await subject.proxy.close();
  await Promise.all((Object.values(upstreams) as TestUpstream[]).map((upstream) => upstream.close()));
});

/** Metric families of the exposition: name → type. */
function families(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1]!, match[2]!]));
}

describe('proxy metrics', () => {
  it('pass `promtool check metrics` (Debian prometheus package), lint included', () => {
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    expect(checked.error).toBeUndefined();
    expect({ status: checked.status, problems: `${checked.stdout}${checked.stderr}`.trim() }).toEqual({ status: 0, problems: '' });
  });

  it('follow the Prometheus naming conventions: prefix, snake case, _total counters, base units, no reserved labels', () => {
    const found = families(exposition);
    expect(found.size).toBeGreaterThan(5);
    for (const [name, type] of found) {
      expect(name).toMatch(/^cutover_[a-z][a-z0-9_]*$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      else expect(name).not.toMatch(/_total$/);
      if (type === 'histogram') expect(name).toMatch(/_seconds$/);
      expect(name).not.toMatch(/_(ms|milliseconds|count|sum|bucket)$/);
      expect(exposition).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
    }
    for (const match of exposition.matchAll(/\{([^}]*)\}/g)) {
      for (const pair of match[1]!.split(/,(?=[a-z_]+=)/)) {
        const label = pair.split('=')[0]!;
        expect(label).toMatch(/^[a-z][a-z0-9_]*$/);
        if (label !== 'le') expect(label).not.toMatch(/^__/);
      }
    }
  });

  it('count requests by route, mode and serving side, with unknown traffic under route="unknown"', () => {
    expect(exposition).toContain('cutover_proxy_requests_total{service="sync",route="sync.health",mode="shadow",served_by="legacy"} 1');
    expect(exposition).toContain('cutover_proxy_requests_total{service="sync",route="unknown",mode="legacy",served_by="legacy"} 1');
  });

  it('keep upstream latency histograms by side and role', () => {
    expect(exposition).toMatch(/cutover_proxy_upstream_duration_seconds_bucket\{le="0.005",service="sync",side="legacy",role="serving"\} \d/);
    expect(exposition).toMatch(/cutover_proxy_upstream_duration_seconds_count\{service="sync",side="reimpl",role="shadow"\} 1/);
  });

  it('show shadow verdicts, each route flag as one 0/1 series per mode, and the flag store state', () => {
    expect(exposition).toContain('cutover_proxy_shadow_verdicts_total{route="sync.health",verdict="mismatched"} 1');
    expect(exposition).toContain('cutover_flag_mode{route="sync.health",mode="shadow"} 1');
    expect(exposition).toContain('cutover_flag_mode{route="sync.health",mode="legacy"} 0');
    expect(exposition).toContain('cutover_flag_mode{route="sync.echo",mode="canary"} 1');
    expect(exposition).toContain('cutover_flag_store_state{state="live"} 1');
    expect(exposition).toContain('cutover_flag_store_state{state="stale"} 0');
    expect(exposition).toContain('cutover_flag_kill_switch 0');
  });
});
