/** How the report's numbers read, the same in markdown and HTML. */
import { formatValue } from '../../gate/render-text.js';
import type { ReadinessSummary } from '../../gate/gate.js';
import type { RouteReport } from './report.js';
export const formatRate = (rate: number | null) => (rate === null ? 'n/a' : `${(rate * 100).toFixed(rate === 1 ? 0 : 1)}%`);
export const formatMs = (ms: number | null) => (ms === null ? '-' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
export const formatRatio = (ratio: number | null) => (ratio === null ? '-' : `${ratio.toFixed(2)}×`);
export const formatMode = (mode: string | null, observed: readonly string[]) => (mode ?? (observed.join('/') || '-'));
/** Diff values are JSON text that may be long; the report shows their start. */
export const clip = (text: string | null, max = 120) => (text === null ? '(absent)' : text.length > max ? `${text.slice(0, max)}…` : text);
/** A criterion the gate failed (or could not judge) as `id value >= threshold (status)`. */
export const formatCriterion = (criterion: ReadinessSummary['routes'][number]['failed'][number]) =>
  `${criterion.id} ${formatValue(criterion)} ${criterion.comparison} ${formatValue({ id: criterion.id, value: criterion.threshold })}${criterion.status === 'fail' ? '' : ` (${criterion.status})`}`;
/** An advisory criterion (a seed target) as met, not met or unmeasured, with its value beside its threshold. */
export const formatAdvisory = (criterion: ReadinessSummary['routes'][number]['advisory'][number]) =>
  `${criterion.id} ${formatValue(criterion)} ${criterion.comparison} ${formatValue({ id: criterion.id, value: criterion.threshold })} ${criterion.status === 'pass' ? 'met' : criterion.status === 'fail' ? 'not met' : criterion.status}`;
/** Fallbacks of a route: `3 (5xx 2, timeout 1)`, `0`, or `off` when the route never falls back. */
export const formatFallbacks = (fallbacks: RouteReport['fallbacks']) =>
  fallbacks.count > 0 ? `${fallbacks.count} (${Object.entries(fallbacks.byReason).map(([reason, count]) => `${reason} ${count}`).join(', ')})` : fallbacks.enabled ? '0' : 'off';
/** A timeout in ms as seconds, or `-` where none applies. */
export const formatTimeout = (ms: number | null) => (ms === null ? '-' : `${ms / 1000} s`);
/** Failure classes with their counts, `CUTOVER_FAIL_5XX 3, ...`, or `-`. */
export const formatFailures = (failures: Record<string, number>) =>
  Object.entries(failures).sort(([a], [b]) => a.localeCompare(b)).map(([failure, count]) => `${failure} ${count}`).join(', ') || '-';
