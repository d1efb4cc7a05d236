/** Reads what deploy/prometheus/ and deploy/grafana/ ask Prometheus for, for the tests of both. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { metricNames } from './promql-names.js';

export const prometheusDir = 'deploy/prometheus';
export const grafanaDir = 'deploy/grafana';

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
}

/** The rules files (the promtool test files, `*.test.yml`, are not rules). */
export function ruleFiles(): string[] {
  return readdirSync(prometheusDir)
    .filter((name) => /\.ya?ml$/.test(name) && !/\.test\.ya?ml$/.test(name))
    .map((name) => join(prometheusDir, name));
}

export function rules(): Rule[] {
  return ruleFiles().flatMap((file) => (parse(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((group) => group.rules));
}

export interface Dashboard {
  uid: string;
  title: string;
  templating: { list: Array<{ type: string; name: string; query: unknown; datasource?: { uid: string } }> };
  annotations: { list: Array<{ expr?: string; datasource?: { uid: string } }> };
  panels: Array<{ id: number; type: string; title: string; datasource?: { type: string; uid: string }; targets?: Array<{ expr: string; refId: string; datasource?: { uid: string } }> }>;
}

export function dashboards(): Array<{ file: string; dashboard: Dashboard }> {
  return readdirSync(grafanaDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => ({ file: join(grafanaDir, name), dashboard: JSON.parse(readFileSync(join(grafanaDir, name), 'utf8')) as Dashboard }));
}

/** Every PromQL expression of a dashboard: panel targets, template variables, annotations. */
export function dashboardExpressions(dashboard: Dashboard): string[] {
  const variables = dashboard.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => (typeof variable.query === 'string' ? variable.query : (variable.query as { query: string }).query));
  const annotations = dashboard.annotations.list.flatMap((annotation) => (annotation.expr ? [annotation.expr] : []));
  const targets = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
  return [...targets, ...variables, ...annotations];
}

/** Metric names read by the rules and dashboards that no recording rule defines: these must be exported. */
export function namesToExport(): Map<string, string[]> {
  const recorded = new Set(rules().flatMap((rule) => (rule.record ? [rule.record] : [])));
  const users = new Map<string, string[]>();
  const note = (name: string, where: string) => {
    if (recorded.has(name)) return;
    users.set(name, [...(users.get(name) ?? []), where]);
  };
  for (const rule of rules()) for (const name of metricNames(rule.expr)) note(name, `rule ${rule.record ?? rule.alert}`);
  for (const { file, dashboard } of dashboards()) for (const expr of dashboardExpressions(dashboard)) for (const name of metricNames(expr)) note(name, file);
  return users;
}

/** Names the rules and dashboards read that are recorded, but by no rule file. */
export function recordedNamesUsed(): string[] {
  const all = [...rules().map((rule) => rule.expr), ...dashboards().flatMap(({ dashboard }) => dashboardExpressions(dashboard))].flatMap(metricNames);
  return [...new Set(all.filter((name) => name.includes(':')))];
}
