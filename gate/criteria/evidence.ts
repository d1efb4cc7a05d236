/**
 * Evidence: enough compared observations in the window, and few ignored ones. Ignored is
 * evidence missing, never evidence of parity, so a route mostly ignored cannot be ready.
 */
import type { GateThresholds } from '../../src/config/schema.js';
import type { CriterionResult } from '../criterion.js';
import type { RouteEvidence } from '../route-evidence.js';

const hour = 3_600_000;

/** Compared observations (matched + mismatched, state parity included) against the minimum, with what is still missing. */
export function comparedCriterion(evidence: RouteEvidence, thresholds: GateThresholds): CriterionResult {
  const missing = Math.max(0, thresholds.minCompared - evidence.compared);
  const spanMs = evidence.window.from ? evidence.window.to.getTime() - evidence.window.from.getTime() : 0;
  const ratePerHour = spanMs > 0 && evidence.compared > 0 ? (evidence.compared / spanMs) * hour : null;
  return {
    id: 'evidence.compared',
    title: 'compared observations (matched + mismatched) in the window',
    value: evidence.compared,
    comparison: '>=',
    threshold: thresholds.minCompared,
    status: missing === 0 ? 'pass' : 'inconclusive',
    gating: true,
    detail: `${evidence.matched} matched, ${evidence.mismatched} mismatched${evidence.stateObservations ? ` (${evidence.stateObservations} of the observations are state parity)` : ''}${evidence.sample < 1 ? `; sampled at ${evidence.sample} (${evidence.sampledOut} requests without a copy)${missing > 0 ? `, so about ${Math.ceil(missing / evidence.sample)} more requests` : ''}` : ''}`,
    // The rate is of observations, so the wait already reflects the sample; the requests it takes are `observations / sample`.
    ...(missing > 0 ? { needs: { observations: missing, requests: Math.ceil(missing / evidence.sample), ratePerHour, etaMs: ratePerHour ? (missing / ratePerHour) * hour : null } } : {}),
  };
}

/** Ignored observations as a share of all, against the ceiling. */
export function ignoredCriterion(evidence: RouteEvidence, thresholds: GateThresholds): CriterionResult {
  const share = evidence.observations === 0 ? null : evidence.ignored / evidence.observations;
  return {
    id: 'evidence.ignored',
    title: 'ignored observations as a share of all (evidence missing, not parity)',
    value: share,
    comparison: '<=',
    threshold: thresholds.maxIgnoredShare,
    status: share === null ? 'inconclusive' : share <= thresholds.maxIgnoredShare ? 'pass' : 'fail',
    gating: true,
    detail: `${evidence.ignored} ignored of ${evidence.observations} observations`,
  };
}
