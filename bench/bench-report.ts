import { loadavg } from 'node:os';

/** The shape every benchmark returns, and how `npm run bench` prints it: measured values side by side, as ratios. */
export interface BenchRow {
  /** What was measured, e.g. `GET /properties rps` or `GeoJSON 20k wall ms`. */
  metric: string;
  /** The reference side (legacy, or nginx, or direct access). */
  baselineLabel: string;
  baseline: number;
  candidateLabel: string;
  candidate: number;
  /** True when a larger number is better (throughput); false for time and memory. */
  higherIsBetter: boolean;
  /** The target ratio candidate/baseline, when the issue sets one (e.g. 3 for ≥3× rps, 0.5 for ≤½ time). */
  target?: number;
  /** Each run's value when baseline and candidate are medians of several runs: printed as the spread (min–max). */
  runs?: { baseline: number[]; candidate: number[] };
}

/** The median of some measurements (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The machine's load averages (1 / 5 / 15 min), for the notes: ratios on a shared machine swing with it. */
export const loadAverage = (): string => loadavg().map((value) => value.toFixed(1)).join(' / ');

export interface BenchResult {
  name: string;
  rows: BenchRow[];
  notes: string[];
}

export function ratio(row: BenchRow): number {
  return row.baseline === 0 ? Number.NaN : row.candidate / row.baseline;
}

/** Whether the row meets its target; undefined when it has none. */
export function meetsTarget(row: BenchRow): boolean | undefined {
  if (row.target === undefined) return undefined;
  const r = ratio(row);
  return row.higherIsBetter ? r >= row.target : r <= row.target;
}

const fmt = (value: number) => (Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2));

export function formatBench(result: BenchResult): string {
  const header = ['metric', 'baseline', 'candidate', 'ratio', 'target'];
  const rows = result.rows.map((row) => {
    const met = meetsTarget(row);
    const spread = (values: number[] | undefined) => (values && values.length > 1 ? ` (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})` : '');
    return [
      row.metric,
      `${row.baselineLabel} ${fmt(row.baseline)}${spread(row.runs?.baseline)}`,
      `${row.candidateLabel} ${fmt(row.candidate)}${spread(row.runs?.candidate)}`,
      `${ratio(row).toFixed(2)}x`,
      row.target === undefined ? '' : `${row.higherIsBetter ? '>=' : '<='}${row.target}x ${met ? 'met' : 'NOT met'}`,
    ];
  });
  const widths = header.map((_, column) => Math.max(header[column]!.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  return [`== ${result.name}`, line(header), ...rows.map(line), ...result.notes.map((note) => `  note: ${note}`)].join('\n');
}
