/**
 * The Mann-Whitney U test, one-sided (Kayenta's judge): are the first sample's values
 * stochastically greater than the second's (is the reimplementation slower)? Exact for small
 * samples without ties, as scipy does; otherwise the normal approximation with the tie
 * correction and a continuity correction.
 */
import { normalSurvival } from './normal.js';

export interface MannWhitneyTest {
  /** U of the first sample: pairs (x, y) with x > y, ties counting a half. */
  u: number;
  /** P(U ≥ u | both samples from one distribution); 1 when a sample is empty. */
  pValue: number;
  method: 'exact' | 'normal' | 'none';
}

/** Both sample sizes under this (and no ties) get the exact distribution. */
export const exactBelow = 8;

/** Ranks (1-based, ties given their mean rank) of the pooled values, and the tie term Σ(t³ − t). */
function rank(values: readonly number[]): { ranks: number[]; tieTerm: number } {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const ranks = new Array<number>(values.length);
  let tieTerm = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.value === order[start]!.value) end++;
    const mean = (start + end) / 2 + 1;
    for (let at = start; at <= end; at++) ranks[order[at]!.index] = mean;
    const t = end - start + 1;
    tieTerm += t * t * t - t;
    start = end + 1;
  }
  return { ranks, tieTerm };
}

/** How many arrangements of m x's and n y's give each U (0..m·n), by the recurrence f(m, n, u) = f(m−1, n, u−n) + f(m, n−1, u). */
function exactCounts(m: number, n: number): number[] {
  // table[j] holds the counts for (i, j) as i grows.
  let table: number[][] = Array.from({ length: n + 1 }, () => [1]);
  for (let i = 1; i <= m; i++) {
    const next: number[][] = [[1]];
    for (let j = 1; j <= n; j++) {
      const counts = new Array<number>(i * j + 1).fill(0);
      const left = table[j]!; // (i−1, j): shifted by j
      for (let u = 0; u < left.length; u++) counts[u + j]! += left[u]!;
      const down = next[j - 1]!; // (i, j−1)
      for (let u = 0; u < down.length; u++) counts[u]! += down[u]!;
      next.push(counts);
    }
    table = next;
  }
  return table[n]!;
}

/** H1: values of `x` tend to be greater than values of `y`. */
export function mannWhitneyGreater(x: readonly number[], y: readonly number[]): MannWhitneyTest {
  const m = x.length;
  const n = y.length;
  if (m === 0 || n === 0) return { u: 0, pValue: 1, method: 'none' };
  const { ranks, tieTerm } = rank([...x, ...y]);
  let rankSum = 0;
  for (let index = 0; index < m; index++) rankSum += ranks[index]!;
  return mannWhitneyFromRanks(m, n, rankSum, tieTerm);
}

/**
 * The same test from the ranks alone: `m` values of x whose ranks in the pooled sample sum to
 * `rankSum`, `n` values of y, and the tie term Σ(t³ − t). What a database that ranked the samples
 * (gate evidence in SQL) hands over instead of the samples.
 */
export function mannWhitneyFromRanks(m: number, n: number, rankSum: number, tieTerm: number): MannWhitneyTest {
  if (m === 0 || n === 0) return { u: 0, pValue: 1, method: 'none' };
  const u = rankSum - (m * (m + 1)) / 2;
  if (m < exactBelow && n < exactBelow && tieTerm === 0) {
    const counts = exactCounts(m, n);
    const total = counts.reduce((sum, count) => sum + count, 0);
    let atLeast = 0;
    for (let value = Math.ceil(u); value < counts.length; value++) atLeast += counts[value]!;
    return { u, pValue: atLeast / total, method: 'exact' };
  }
  const size = m + n;
  const mean = (m * n) / 2;
  const variance = ((m * n) / 12) * (size + 1 - tieTerm / (size * (size - 1)));
  if (variance <= 0) return { u, pValue: 1, method: 'normal' };
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { u, pValue: Math.min(1, normalSurvival(z)), method: 'normal' };
}
