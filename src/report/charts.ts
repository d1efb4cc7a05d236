/**
 * The report's figures: each side's latency distribution per route (counts in fixed
 * log-spaced buckets), parity per hour, observations per route. Computed once into report.json;
 * report.html draws them as inline SVG (no script, no external asset) and report.md gives the
 * same numbers as tables.
 */
import { latencyBucketsMs, type ObservationTallies } from '../../proxy/observe/observation-tallies.js';

export { latencyBucketsMs };

export interface RouteFigures {
  routeId: string;
  observations: number;
  /** Answers per latency bucket (`latencyBucketsMs`, then one over the last bound), per side. */
  latency: { legacy: number[]; reimpl: number[] };
}

export interface ParityPoint {
  /** Start of the hour (UTC). */
  hour: string;
  matched: number;
  mismatched: number;
  /** matched / (matched + mismatched); null when nothing was compared that hour. */
  parity: number | null;
}

export interface ReportFigures {
  latencyBucketsMs: readonly number[];
  routes: RouteFigures[];
  parityOverTime: ParityPoint[];
}

/** The figures of the window's tallies, routes in the order given. */
export function reportFigures(routeIds: readonly string[], tallies: ObservationTallies): ReportFigures {
  const byRoute = new Map(tallies.routes.map((tally) => [tally.routeId, tally]));
  const empty = () => new Array<number>(latencyBucketsMs.length + 1).fill(0);
  const routes = routeIds.map((routeId): RouteFigures => {
    const tally = byRoute.get(routeId);
    return { routeId, observations: tally?.observations ?? 0, latency: { legacy: tally ? [...tally.latency.buckets.legacy] : empty(), reimpl: tally ? [...tally.latency.buckets.reimpl] : empty() } };
  });
  const parityOverTime = tallies.parityByHour.map((point) => ({ ...point, parity: point.matched / (point.matched + point.mismatched) }));
  return { latencyBucketsMs, routes, parityOverTime };
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
export const bucketLabels = (bounds: readonly number[]) => [...bounds.map((bound) => `≤${bound}`), `>${bounds[bounds.length - 1]}`];

/** Bars of `values` labelled `labels`; each bar carries its label and value as data attributes (the report and the web console draw with it). */
export function barChart(title: string, labels: readonly string[], values: readonly number[], colour: string, kind: string): string {
  const width = 40 + labels.length * 36;
  const height = 150;
  const max = Math.max(1, ...values);
  const bars = values.map((value, index) => {
    const h = Math.round((value / max) * 100);
    const x = 30 + index * 36;
    return `<rect data-kind="${kind}" data-label="${escape(labels[index]!)}" data-value="${value}" x="${x}" y="${115 - h}" width="28" height="${h}" fill="${colour}"><title>${escape(labels[index]!)}: ${value}</title></rect>` +
      `<text x="${x + 14}" y="130" font-size="9" text-anchor="middle">${escape(labels[index]!)}</text><text x="${x + 14}" y="${112 - h}" font-size="9" text-anchor="middle">${value}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escape(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><text x="4" y="12" font-size="11">${escape(title)}</text>${bars.join('')}<line x1="28" y1="115" x2="${width - 4}" y2="115" stroke="#57606a"/></svg>`;
}

/** The figures as inline SVG sections of report.html. */
export function renderFiguresHtml(figures: ReportFigures): string {
  const labels = bucketLabels(figures.latencyBucketsMs);
  const parts = ['<h2>Charts</h2>', '<h3>Observations per route</h3>', barChart('Observations per route', figures.routes.map((route) => route.routeId), figures.routes.map((route) => route.observations), '#0969da', 'observations')];
  parts.push('<h3>Parity per hour (matched / compared, %)</h3>');
  if (figures.parityOverTime.length === 0) parts.push('<p>Nothing compared.</p>');
  else parts.push(barChart('Parity per hour', figures.parityOverTime.map((point) => point.hour.slice(5, 13).replace('T', ' ')), figures.parityOverTime.map((point) => Math.round((point.parity ?? 0) * 1000) / 10), '#1a7f37', 'parity'));
  parts.push('<h3>Latency distribution per route (answers per bucket, ms)</h3>');
  for (const route of figures.routes) {
    parts.push(`<h4><code>${escape(route.routeId)}</code></h4>`, barChart(`${route.routeId} legacy`, labels, route.latency.legacy, '#8250df', 'latency-legacy'), barChart(`${route.routeId} reimpl`, labels, route.latency.reimpl, '#bf8700', 'latency-reimpl'));
  }
  return parts.join('\n');
}

/** The same figures as Markdown tables. */
export function renderFiguresMarkdown(figures: ReportFigures): string[] {
  const labels = bucketLabels(figures.latencyBucketsMs);
  const lines = ['', '## Charts (as tables)', '', '### Observations per route', '', '| Route | Observations |', '|---|---:|'];
  for (const route of figures.routes) lines.push(`| \`${route.routeId}\` | ${route.observations} |`);
  lines.push('', '### Parity per hour', '', '| Hour (UTC) | Matched | Mismatched | Parity |', '|---|---:|---:|---:|');
  for (const point of figures.parityOverTime) lines.push(`| ${point.hour} | ${point.matched} | ${point.mismatched} | ${point.parity === null ? '-' : `${(point.parity * 100).toFixed(1)}%`} |`);
  lines.push('', '### Latency distribution per route (answers per bucket, ms)', '', `| Route | Side | ${labels.join(' | ')} |`, `|---|---|${labels.map(() => '---:').join('|')}|`);
  for (const route of figures.routes) for (const side of ['legacy', 'reimpl'] as const) lines.push(`| \`${route.routeId}\` | ${side} | ${route.latency[side].join(' | ')} |`);
  return lines;
}
