/** deploy/prometheus/ and deploy/grafana/: promtool accepts the rules, and the files hang together. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { twoSidedZ } from '../../gate/statistics/normal.js';
import { wilsonInterval } from '../../gate/statistics/wilson.js';
import { loadConfig } from '../../src/config/load.js';
import { dashboardExpressions, dashboards, prometheusDir, recordedNamesUsed, ruleFiles, rules } from './deploy-observability.js';
import { exportedNames, metricNames } from './promql-names.js';

const run = promisify(execFile);
const promtool = (...args: string[]) => run('promtool', args, { cwd: prometheusDir }).then(
  ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
  (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, output: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
);

describe('metric names of a PromQL expression', () => {
  it('are the selectors, not functions, aggregations, keywords, labels, strings, durations or Grafana variables', () => {
    const expr = 'histogram_quantile(0.99, sum by (side, le) (rate(cutover_proxy_upstream_duration_seconds_bucket{service=~"$service", code="up_total"}[$__rate_interval]))) > on(route) group_left(mode) 2 * route:x:ratio1h offset 5m and bool cutover_flag_mode unless max(up_metric) by (instance)';
    expect(metricNames(expr)).toEqual(['cutover_proxy_upstream_duration_seconds_bucket', 'route:x:ratio1h', 'cutover_flag_mode', 'up_metric']);
  });

  it('read label_values(metric, label) as the metric and 1e3 as a number', () => {
    expect(metricNames('label_values(cutover_flag_mode, route)')).toEqual(['cutover_flag_mode']);
    expect(metricNames('label_values(route)')).toEqual([]);
    expect(metricNames('ai_jobs_total > 1e3')).toEqual(['ai_jobs_total']);
  });

  it('of an exposition include each histogram family\'s series and each sample\'s name', () => {
    const names = exportedNames('# HELP a_seconds x\n# TYPE a_seconds histogram\n# TYPE b_total counter\nb_total{x="1"} 3\nc_created 1.7e9\n');
    expect([...names].sort()).toEqual(['a_seconds', 'a_seconds_bucket', 'a_seconds_count', 'a_seconds_sum', 'b_total', 'c_created']);
  });
});

describe('the Prometheus rules', () => {
  it('are accepted by promtool check rules, file by file', async () => {
    expect(ruleFiles().length).toBeGreaterThanOrEqual(2);
    for (const file of ruleFiles()) {
      const result = await promtool('check', 'rules', file.slice(prometheusDir.length + 1));
      expect(result, file).toMatchObject({ code: 0, output: expect.stringContaining('SUCCESS') });
    }
  });

  it('would be refused by promtool when an expression does not parse (the check can fail)', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'cutover-rules-'));
    try {
      const broken = join(scratch, 'broken.yml');
      writeFileSync(broken, 'groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        expr: sum by (route (rate(cutover_proxy_requests_total[5m]))\n');
      const result = await promtool('check', 'rules', broken);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(/FAILED|error/i);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('pass promtool\'s rule tests: each alert fires on what it names and not on a healthy route', async () => {
    const result = await promtool('test', 'rules', 'cutover.alerts.test.yml');
    expect(result, result.output).toMatchObject({ code: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('cover parity below its bound, rising mismatches, shadow drops, a stale flag store, a rollback and an upstream down', () => {
    const alerts = rules().flatMap((rule) => (rule.alert ? [rule.alert] : []));
    expect(alerts).toEqual(expect.arrayContaining(['CutoverParityBelowBound', 'CutoverMismatchRateRising', 'CutoverShadowDrops', 'CutoverFlagStoreStale', 'CutoverRolloutRolledBack', 'CutoverUpstreamDown']));
  });

  it('judge parity with the gate\'s default bound and confidence, so the alert and the gate agree', () => {
    const { minParity, confidence } = loadConfig({ env: {} }).gate.thresholds;
    const alert = rules().find((rule) => rule.alert === 'CutoverParityBelowBound')!;
    expect(Number(/<\s*([\d.]+)\s*$/.exec(alert.expr.trim())![1])).toBe(minParity);
    const z = twoSidedZ(confidence);
    for (const rule of rules().filter((candidate) => candidate.record?.startsWith('route:cutover_parity_wilson'))) {
      const [zText, z2Text] = [/([\d.]+) \* sqrt/.exec(rule.expr)![1]!, /([\d.]+) \/ \(2 \*/.exec(rule.expr)![1]!];
      expect(Number(zText)).toBeCloseTo(z, 5);
      expect(Number(z2Text)).toBeCloseTo(z * z, 5);
    }
    // The rule test's 6000 of 6060 reads as the gate's own interval.
    const upper = wilsonInterval(6000, 6060, confidence).upper;
    expect(readFileSync(join(prometheusDir, 'cutover.alerts.test.yml'), 'utf8')).toContain(`is ${(upper * 100).toFixed(2)}%, under`);
  });

  it('read only recorded series that a rules file records', () => {
    const recorded = new Set(rules().flatMap((rule) => (rule.record ? [rule.record] : [])));
    expect(recordedNamesUsed().filter((name) => !recorded.has(name))).toEqual([]);
  });
});

describe('the Grafana dashboard', () => {
  it('is importable with a datasource variable every panel, target and annotation queries through', () => {
    const found = dashboards();
    expect(found.length).toBeGreaterThanOrEqual(1);
    for (const { file, dashboard } of found) {
      expect(dashboard.uid, file).toMatch(/^[\w-]{1,40}$/);
      expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ type: 'datasource', name: 'datasource', query: 'prometheus' }));
      const ids = dashboard.panels.map((panel) => panel.id);
      expect(new Set(ids).size, `${file}: panel ids are unique`).toBe(ids.length);
      for (const panel of dashboard.panels.filter((candidate) => candidate.type !== 'row')) {
        expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
        for (const target of panel.targets!) {
          expect(target.datasource?.uid, panel.title).toBe('${datasource}');
          expect(metricNames(target.expr).length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        }
      }
      for (const annotation of dashboard.annotations.list.filter((candidate) => candidate.expr)) expect(annotation.datasource?.uid).toBe('${datasource}');
      expect(dashboardExpressions(dashboard).length).toBeGreaterThan(20);
    }
  });

  it('has panels for the GIS export jobs and their duration and for the narrator\'s AI metrics', () => {
    const names = dashboards().flatMap(({ dashboard }) => dashboardExpressions(dashboard).flatMap(metricNames));
    expect(names).toEqual(expect.arrayContaining(['gis_export_jobs_submitted_total', 'gis_export_processing_duration_seconds_bucket', 'ai_jobs_total', 'ai_latency_seconds_bucket']));
  });
});
