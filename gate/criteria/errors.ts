/**
 * Errors (5xx, timeouts, connection failures): the reimplementation's rate is not significantly
 * higher than legacy's (one-sided two-proportion test), and its Wilson upper bound is under the
 * ceiling. The seed's criterion: no increase in error rates.
 */
import type { GateThresholds } from '../../src/config/schema.js';
import type { CriterionResult } from '../criterion.js';
import { failureClasses, type FailureClass } from '../failure-taxonomy.js';
import type { RouteEvidence, SideTally } from '../route-evidence.js';
import { twoProportionGreater } from '../statistics/two-proportion.js';
import { wilsonInterval } from '../statistics/wilson.js';

const rate = (tally: SideTally) => `${tally.errors}/${tally.trials}`;

/** The failure classes of a side's errors, as `CODE×n` (gate/failure-taxonomy.ts). */
export function failureSummary(tally: SideTally): string {
  const entries = (Object.entries(tally.failures) as Array<[FailureClass, number]>).sort(([a], [b]) => a.localeCompare(b));
  return entries.length ? entries.map(([failure, count]) => `${failureClasses[failure].code}×${count}`).join(', ') : 'none';
}

/** The reimplementation's error rate against legacy's: not significantly higher. */
export function errorIncreaseCriterion(evidence: RouteEvidence, thresholds: GateThresholds): CriterionResult {
  const { legacy, reimpl } = evidence.sides;
  const test = twoProportionGreater(reimpl.errors, reimpl.trials, legacy.errors, legacy.trials);
  const alpha = 1 - thresholds.confidence;
  const measured = reimpl.trials > 0 && legacy.trials > 0;
  return {
    id: 'errors.no-increase',
    title: `one-sided p-value that reimpl errs more than legacy (fails under ${alpha.toFixed(2)})`,
    value: measured ? test.pValue : null,
    comparison: '>=',
    threshold: alpha,
    status: !measured ? 'inconclusive' : test.pValue >= alpha ? 'pass' : 'fail',
    gating: true,
    detail: `reimpl ${rate(reimpl)} (${failureSummary(reimpl)}), legacy ${rate(legacy)} (${failureSummary(legacy)})`,
  };
}

/** The Wilson upper bound of the reimplementation's error rate against the ceiling. */
export function errorCeilingCriterion(evidence: RouteEvidence, thresholds: GateThresholds): CriterionResult {
  const { reimpl } = evidence.sides;
  const interval = wilsonInterval(reimpl.errors, reimpl.trials, thresholds.confidence);
  const status = reimpl.trials === 0 ? 'inconclusive' : interval.upper <= thresholds.maxErrorRate ? 'pass' : interval.lower > thresholds.maxErrorRate ? 'fail' : 'inconclusive';
  return {
    id: 'errors.ceiling',
    title: `${thresholds.confidence * 100}% upper bound of reimpl's error rate`,
    value: reimpl.trials === 0 ? null : interval.upper,
    comparison: '<=',
    threshold: thresholds.maxErrorRate,
    status,
    gating: true,
    detail: reimpl.trials === 0 ? 'reimpl was not asked' : `reimpl ${rate(reimpl)}, interval [${interval.lower.toFixed(5)}, ${interval.upper.toFixed(5)}]`,
  };
}
