/**
 * The one-sided two-proportion z-test (pooled): is the first proportion significantly higher
 * than the second? The gate asks it of the reimplementation's error rate against legacy's.
 */
import { normalSurvival } from './normal.js';

export interface TwoProportionTest {
  /** x1/n1 − x2/n2; null when either side had no trials. */
  difference: number | null;
  z: number | null;
  /** P(a difference at least this large | both rates equal); 1 when nothing can tell them apart. */
  pValue: number;
}

/** H1: x1/n1 > x2/n2. */
export function twoProportionGreater(x1: number, n1: number, x2: number, n2: number): TwoProportionTest {
  for (const [x, n] of [[x1, n1], [x2, n2]] as const) {
    if (!Number.isInteger(x) || !Number.isInteger(n) || x < 0 || n < 0 || x > n) throw new RangeError(`twoProportionGreater needs whole counts 0 <= x <= n, got ${x} of ${n}`);
  }
  if (n1 === 0 || n2 === 0) return { difference: null, z: null, pValue: 1 };
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2);
  // Both sides all-failing or all-succeeding: equal rates, no evidence of a difference.
  if (variance === 0) return { difference: p1 - p2, z: null, pValue: 1 };
  const z = (p1 - p2) / Math.sqrt(variance);
  return { difference: p1 - p2, z, pValue: normalSurvival(z) };
}
