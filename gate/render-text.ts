/** The gate's verdicts as the terminal shows them: a line per route, then one per criterion with its value, threshold and status. */
import type { CriterionResult } from './criterion.js';
import type { GateReport } from './gate.js';

const marks: Record<CriterionResult['status'], string> = { pass: 'pass', fail: 'FAIL', inconclusive: 'open', unmeasured: 'n/a' };

/** A value as its kind reads best: counts whole, shares and rates as percentages, p-values and ratios to 4 places. */
export function formatValue(criterion: Pick<CriterionResult, 'id' | 'value'>): string {
  const { value, id } = criterion;
  if (value === null) return '-';
  if (id === 'evidence.compared') return value.toLocaleString('en-US');
  if (id === 'evidence.ignored' || id.startsWith('parity.') || id === 'errors.ceiling') return `${(value * 100).toFixed(3)}%`;
  return value.toFixed(4);
}

/** A duration as `3h05m` / `12m` / `40s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours}h${String(minutes % 60).padStart(2, '0')}m` : `${Math.round(hours / 24)}d`;
}

/** What an evidence criterion still needs, in words. */
export function needsText(criterion: CriterionResult): string | null {
  if (!criterion.needs) return null;
  const { observations, requests, ratePerHour, etaMs } = criterion.needs;
  // A sampled route: the requests it takes, not only the observations.
  const more = `needs ${observations.toLocaleString('en-US')} more compared observations${requests > observations ? ` (about ${requests.toLocaleString('en-US')} requests at the route's sample)` : ''}`;
  return ratePerHour === null || etaMs === null ? `${more} (no traffic in the window to estimate when)` : `${more}, about ${formatDuration(etaMs)} at the current ${ratePerHour.toFixed(1)}/h`;
}

export function renderGateText(report: GateReport): string {
  const lines: string[] = [];
  for (const route of report.routes) {
    lines.push(`${route.routeId}  ${route.verdict}${route.failed.length ? `  (${route.verdict === 'NOT_READY' ? 'failed' : 'open'}: ${route.failed.join(', ')})` : ''}`);
    const width = Math.max(...route.criteria.map((criterion) => criterion.id.length));
    for (const criterion of route.criteria) {
      const value = formatValue(criterion);
      const threshold = formatValue({ id: criterion.id, value: criterion.threshold });
      lines.push(`  ${marks[criterion.status].padEnd(4)} ${criterion.id.padEnd(width)}  ${value} ${criterion.comparison} ${threshold}${criterion.gating ? '' : '  (advisory)'}  ${criterion.detail}`);
      const needs = needsText(criterion);
      if (needs) lines.push(`       ${' '.repeat(width)}  ${needs}`);
    }
  }
  if (report.routes.length === 0) lines.push('no route selected: nothing observed in the window and no route out of legacy');
  lines.push(`gate: ${report.verdict} (${report.routes.length} route${report.routes.length === 1 ? '' : 's'}, observations since ${report.since})`);
  return lines.join('\n');
}
