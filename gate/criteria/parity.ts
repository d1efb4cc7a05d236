/**
 * Parity: the Wilson lower bound of matched / compared, so 11 of 11 does not read as 100%.
 * It passes when the lower bound clears the threshold, fails when even the upper bound is
 * under it, and is inconclusive between. Accepted differences count as matched and are listed.
 */
import type { GateThresholds } from '../../src/config/schema.js';
import type { CriterionResult } from '../criterion.js';
import type { RouteEvidence } from '../route-evidence.js';
import { wilsonInterval } from '../statistics/wilson.js';

const percent = (value: number) => `${(value * 100).toFixed(3)}%`;

export function parityCriterion(evidence: RouteEvidence, thresholds: GateThresholds): CriterionResult {
  const interval = wilsonInterval(evidence.matched, evidence.compared, thresholds.confidence);
  const accepted = Object.entries(evidence.accepted).sort(([a], [b]) => a.localeCompare(b));
  const status = evidence.compared === 0 ? 'inconclusive' : interval.lower >= thresholds.minParity ? 'pass' : interval.upper < thresholds.minParity ? 'fail' : 'inconclusive';
  return {
    id: 'parity.lower-bound',
    title: `${thresholds.confidence * 100}% Wilson lower bound of matched / compared`,
    value: evidence.compared === 0 ? null : interval.lower,
    comparison: '>=',
    threshold: thresholds.minParity,
    status,
    gating: true,
    detail:
      evidence.compared === 0
        ? 'nothing compared'
        : `${evidence.matched}/${evidence.compared} = ${percent(interval.estimate!)}, interval [${percent(interval.lower)}, ${percent(interval.upper)}]` +
          (accepted.length ? `; accepted differences counted as matched: ${accepted.map(([id, count]) => `${id} (${count})`).join(', ')}` : ''),
  };
}
