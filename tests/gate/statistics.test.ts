/**
 * The gate's statistics against reference values computed once by scipy 1.10 (Debian's
 * python3-scipy; the vectors are committed in reference-vectors.json, the tool is not), and
 * the properties a bound must keep whatever the counts.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mannWhitneyGreater } from '../../gate/statistics/mann-whitney.js';
import { normalCdf, normalQuantile, twoSidedZ } from '../../gate/statistics/normal.js';
import { percentile, percentileRatio } from '../../gate/statistics/percentile.js';
import { twoProportionGreater } from '../../gate/statistics/two-proportion.js';
import { trialsForLowerBound, wilsonInterval } from '../../gate/statistics/wilson.js';

interface Vectors {
  normal: Array<{ z: number; cdf: number }>;
  quantile: Array<{ p: number; z: number }>;
  wilson: Array<{ successes: number; trials: number; confidence: number; lower: number; upper: number }>;
  twoProportion: Array<{ x1: number; n1: number; x2: number; n2: number; z: number | null; pValue: number }>;
  mannWhitney: Array<{ x: number[]; y: number[]; u: number; pValue: number }>;
}

const vectors = JSON.parse(readFileSync(new URL('./reference-vectors.json', import.meta.url), 'utf8')) as Vectors;

/** Relative closeness, with an absolute floor for values near 0. */
const close = (actual: number, expected: number, relative = 1e-9) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.max(1e-15, Math.abs(expected) * relative));

describe('the standard normal', () => {
  it.each(vectors.normal)('has CDF($z) as scipy computes it', ({ z, cdf }) => close(normalCdf(z), cdf, 1e-12));
  it.each(vectors.quantile)('has the quantile of $p as scipy computes it', ({ p, z }) => close(normalQuantile(p), z, 1e-9));
  it('gives 1.959964 for a two-sided 95% interval', () => close(twoSidedZ(0.95), 1.959963984540054, 1e-12));
});

describe('the Wilson score interval', () => {
  it.each(vectors.wilson)('of $successes out of $trials at $confidence matches scipy', ({ successes, trials, confidence, lower, upper }) => {
    const interval = wilsonInterval(successes, trials, confidence);
    close(interval.lower, lower, 1e-9);
    close(interval.upper, upper, 1e-9);
  });

  it('reads 11 matched of 11 as at least 74%, not 100%', () => {
    expect(wilsonInterval(11, 11).lower).toBeLessThan(0.75);
  });

  it('needs 3,838 clean observations for a 95% lower bound of 99.9%', () => {
    expect(trialsForLowerBound(0.999)).toBe(3838);
    expect(wilsonInterval(3837, 3837).lower).toBeLessThan(0.999);
    expect(wilsonInterval(3838, 3838).lower).toBeGreaterThanOrEqual(0.999);
  });

  it('refuses counts that are not counts', () => {
    expect(() => wilsonInterval(5, 4)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 4)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 4)).toThrow(RangeError);
  });

  const counts = fc.integer({ min: 1, max: 100_000 }).chain((trials) => fc.tuple(fc.integer({ min: 0, max: trials }), fc.constant(trials)));

  it('never has a lower bound above the estimate, nor an upper bound below it', () => {
    fc.assert(fc.property(counts, ([successes, trials]) => {
      const { estimate, lower, upper } = wilsonInterval(successes, trials);
      return lower >= 0 && lower <= estimate! && estimate! <= upper && upper <= 1;
    }));
  });

  it('never lowers the lower bound when one more observation matches', () => {
    fc.assert(fc.property(counts, ([successes, trials]) => wilsonInterval(successes + 1, trials + 1).lower >= wilsonInterval(successes, trials).lower));
  });

  it('never raises the lower bound when one more observation mismatches', () => {
    fc.assert(fc.property(counts, ([successes, trials]) => wilsonInterval(successes, trials + 1).lower <= wilsonInterval(successes, trials).lower));
  });
});

describe('the one-sided two-proportion test', () => {
  it.each(vectors.twoProportion)('of $x1/$n1 against $x2/$n2 matches the reference', ({ x1, n1, x2, n2, z, pValue }) => {
    const test = twoProportionGreater(x1, n1, x2, n2);
    if (z === null) expect(test.z).toBeNull();
    else close(test.z!, z, 1e-12);
    close(test.pValue, pValue, 1e-9);
  });

  it('finds no evidence when a side has no trials', () => {
    expect(twoProportionGreater(3, 10, 0, 0).pValue).toBe(1);
  });

  it('never finds a lower rate significantly higher', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 5000 }), (n, x2raw, n2) => {
      const x2 = x2raw % (n2 + 1);
      const x1 = Math.floor((x2 / n2) * n);
      return twoProportionGreater(x1, n, x2, n2).pValue >= 0.5 - 1e-12;
    }));
  });
});

describe('the one-sided Mann-Whitney U test', () => {
  it.each(vectors.mannWhitney.map((vector, index) => ({ ...vector, index, sizes: `${vector.x.length}×${vector.y.length}` })))('on samples $index ($sizes) matches scipy', ({ x, y, u, pValue }) => {
    const test = mannWhitneyGreater(x, y);
    expect(test.u).toBe(u);
    close(test.pValue, pValue, 1e-9);
  });

  it('is exact for small samples without ties and normal otherwise', () => {
    expect(mannWhitneyGreater([3, 4], [1, 2]).method).toBe('exact');
    expect(mannWhitneyGreater([3, 3], [1, 2]).method).toBe('normal');
    expect(mannWhitneyGreater([], [1]).method).toBe('none');
  });

  it('finds a sample that is all greater significant, and its mirror not', () => {
    const slow = Array.from({ length: 30 }, (_, index) => 100 + index);
    const fast = Array.from({ length: 30 }, (_, index) => 10 + index);
    expect(mannWhitneyGreater(slow, fast).pValue).toBeLessThan(1e-6);
    expect(mannWhitneyGreater(fast, slow).pValue).toBeGreaterThan(0.999);
  });

  it('never gives a p-value outside [0, 1], and shifting the first sample up never raises it', () => {
    const sample = fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 30 });
    fc.assert(fc.property(sample, sample, fc.integer({ min: 1, max: 20 }), (x, y, shift) => {
      const before = mannWhitneyGreater(x, y).pValue;
      const after = mannWhitneyGreater(x.map((value) => value + shift), y).pValue;
      return before >= 0 && before <= 1 && after <= before + 1e-12;
    }));
  });
});

describe('percentiles', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile([], 99)).toBeNull();
  });

  it('gives the p99 ratio of reimpl to legacy', () => {
    const legacy = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentileRatio(legacy.map((value) => value / 2), legacy, 99)).toBe(0.5);
    expect(percentileRatio([], legacy, 99)).toBeNull();
  });
});
