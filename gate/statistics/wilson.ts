/**
 * The Wilson score interval of a proportion (Wilson, 1927): unlike the point estimate it says
 * how sure a count is, so 11 matched of 11 is not read as 100%. Two-sided at the confidence.
 */
import { twoSidedZ } from './normal.js';

export interface WilsonInterval {
  /** successes / trials; null when there were no trials. */
  estimate: number | null;
  lower: number;
  upper: number;
}

/** The Wilson interval of `successes` out of `trials` (0..1 each side; [0, 1] when there were no trials). */
export function wilsonInterval(successes: number, trials: number, confidence = 0.95): WilsonInterval {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || successes < 0 || trials < 0 || successes > trials) {
    throw new RangeError(`wilsonInterval needs whole counts with 0 <= successes <= trials, got ${successes} of ${trials}`);
  }
  if (trials === 0) return { estimate: null, lower: 0, upper: 1 };
  const z = twoSidedZ(confidence);
  const z2 = z * z;
  const p = successes / trials;
  const centre = p + z2 / (2 * trials);
  const spread = z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  const denominator = 1 + z2 / trials;
  // At the edges the formula is exact but rounding can push a bound a hair past the estimate.
  const lower = successes === 0 ? 0 : Math.min(p, (centre - spread) / denominator);
  const upper = successes === trials ? 1 : Math.max(p, (centre + spread) / denominator);
  return { estimate: p, lower, upper };
}

/**
 * The fewest trials with which zero failures give a Wilson lower bound of at least `bound`:
 * n / (n + z²) ≥ bound ⇔ n ≥ z² · bound / (1 − bound). 0.999 at 95% gives 3,838.
 */
export function trialsForLowerBound(bound: number, confidence = 0.95): number {
  if (!(bound >= 0 && bound < 1)) throw new RangeError(`a lower bound must be in [0, 1), got ${bound}`);
  const z = twoSidedZ(confidence);
  let n = Math.max(1, Math.ceil((z * z * bound) / (1 - bound)));
  // Rounding of the closed form can land one off; settle it against the interval itself.
  while (n > 1 && wilsonInterval(n - 1, n - 1, confidence).lower >= bound) n--;
  while (wilsonInterval(n, n, confidence).lower < bound) n++;
  return n;
}
