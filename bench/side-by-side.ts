/** Rows of a legacy-vs-reimpl benchmark: rps, p50 and p99 of each measured request, and a note with the counts. */
import type { BenchRow } from './bench-report.js';
import type { LoadResult } from './load.js';

export type Measured = [name: string, legacy: LoadResult, reimpl: LoadResult];

export function sideBySide(results: readonly Measured[]): { rows: BenchRow[]; notes: string[] } {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  for (const [name, l, r] of results) {
    rows.push({ metric: `${name} rps`, baselineLabel: 'legacy', baseline: l.rps, candidateLabel: 'reimpl', candidate: r.rps, higherIsBetter: true });
    rows.push({ metric: `${name} p50 ms`, baselineLabel: 'legacy', baseline: l.p50Ms, candidateLabel: 'reimpl', candidate: r.p50Ms, higherIsBetter: false });
    rows.push({ metric: `${name} p99 ms`, baselineLabel: 'legacy', baseline: l.p99Ms, candidateLabel: 'reimpl', candidate: r.p99Ms, higherIsBetter: false });
    notes.push(`${name}: legacy ${l.requests} requests (${l.errors} errors, ${l.non2xx} non-2xx), reimpl ${r.requests} (${r.errors} errors, ${r.non2xx} non-2xx)`);
  }
  return { rows, notes };
}
