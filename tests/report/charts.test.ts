/** The report's charts: the SVG bars in report.html carry exactly the figures of report.json, and report.md tabulates them. */
import { describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import type { Observation } from '../../proxy/observe/observation.js';
import { bucketLabels, latencyBucketsMs } from '../../src/report/charts.js';
import { buildReport } from '../../src/report/report.js';
import { renderHtml } from '../../src/report/render-html.js';
import { renderMarkdown } from '../../src/report/render-markdown.js';

const catalogue = loadRouteCatalogue();

function observation(routeId: string, observedAt: string, legacyMs: number, reimplMs: number, verdict: Observation['verdict'] = 'matched'): Observation {
  return {
    observedAt: new Date(observedAt),
    routeId,
    service: 'sync',
    method: 'GET',
    path: '/health',
    mode: 'shadow',
    serving: { side: 'legacy', status: 200, latencyMs: legacyMs, error: null, body: null },
    shadow: { side: 'reimpl', status: 200, latencyMs: reimplMs, error: null, body: null },
    verdict,
    ignoredBy: [],
    erroredSide: null,
    differences: [],
  };
}

const observations = [
  observation('sync.health', '2026-05-15T10:05:00Z', 3, 7),
  observation('sync.health', '2026-05-15T10:40:00Z', 4, 8),
  observation('sync.health', '2026-05-15T11:10:00Z', 40, 900, 'mismatched'),
  observation('sync.counties.list', '2026-05-15T11:20:00Z', 15, 6000),
  observation('sync.counties.list', '2026-05-15T11:30:00Z', 15, 12, 'ignored'),
];
const report = buildReport({ observations, routes: catalogue.routes });

/** The bars of one kind in the HTML, as label → value, in order. */
function bars(html: string, kind: string, within = html): Array<[string, number]> {
  return [...within.matchAll(new RegExp(`<rect data-kind="${kind}" data-label="([^"]*)" data-value="([^"]*)"`, 'g'))].map((match) => [match[1]!.replace(/&gt;/g, '>'), Number(match[2])]);
}

describe('the report figures', () => {
  it('count each side\'s answers per latency bucket, per route, and parity per hour', () => {
    const health = report.figures.routes.find((route) => route.routeId === 'sync.health')!;
    const labels = bucketLabels(latencyBucketsMs);
    const at = (label: string) => labels.indexOf(label);
    expect(health.observations).toBe(3);
    expect(health.latency.legacy[at('≤5')]).toBe(2);
    expect(health.latency.legacy[at('≤50')]).toBe(1);
    expect(health.latency.reimpl[at('≤10')]).toBe(2);
    expect(health.latency.reimpl[at('≤1000')]).toBe(1);
    const counties = report.figures.routes.find((route) => route.routeId === 'sync.counties.list')!;
    expect(counties.latency.reimpl[at('>5000')]).toBe(1);
    expect(report.figures.parityOverTime).toEqual([
      { hour: '2026-05-15T10:00:00.000Z', matched: 2, mismatched: 0, parity: 1 },
      { hour: '2026-05-15T11:00:00.000Z', matched: 1, mismatched: 1, parity: 0.5 },
    ]);
  });

  it('are drawn in report.html as inline SVG whose bars are the JSON figures', () => {
    const html = renderHtml(report);
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(bars(html, 'observations')).toEqual(report.figures.routes.map((route) => [route.routeId, route.observations]));
    expect(bars(html, 'parity').map(([, value]) => value)).toEqual(report.figures.parityOverTime.map((point) => point.parity! * 100));
    const labels = bucketLabels(latencyBucketsMs);
    const legacy = bars(html, 'latency-legacy');
    const reimpl = bars(html, 'latency-reimpl');
    expect(legacy).toEqual(report.figures.routes.flatMap((route) => route.latency.legacy.map((count, index): [string, number] => [labels[index]!, count])));
    expect(reimpl).toEqual(report.figures.routes.flatMap((route) => route.latency.reimpl.map((count, index): [string, number] => [labels[index]!, count])));
  });

  it('are tabulated in report.md with the same numbers, and kept in report.json', () => {
    const markdown = renderMarkdown(report);
    for (const route of report.figures.routes) {
      expect(markdown).toContain(`| \`${route.routeId}\` | ${route.observations} |`);
      expect(markdown).toContain(`| \`${route.routeId}\` | legacy | ${route.latency.legacy.join(' | ')} |`);
      expect(markdown).toContain(`| \`${route.routeId}\` | reimpl | ${route.latency.reimpl.join(' | ')} |`);
    }
    expect(markdown).toContain('| 2026-05-15T11:00:00.000Z | 1 | 1 | 50.0% |');
    const json = JSON.parse(JSON.stringify(report)) as typeof report;
    expect(json.figures.parityOverTime).toHaveLength(2);
    expect(json.figures.routes.map((route) => route.routeId)).toEqual(report.routes.map((route) => route.routeId));
  });
});
