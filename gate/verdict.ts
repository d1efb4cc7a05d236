/**
 * A route's readiness verdict from its criteria: NOT_READY when a gating criterion failed,
 * INSUFFICIENT_EVIDENCE when none failed but one could not yet say, READY when every gating
 * criterion passed. Each criterion is its own function (gate/criteria/).
 */
import type { GateThresholds } from '../src/config/schema.js';
import type { CriterionResult } from './criterion.js';
import { comparedCriterion, ignoredCriterion } from './criteria/evidence.js';
import { errorCeilingCriterion, errorIncreaseCriterion } from './criteria/errors.js';
import { p99Criterion, slowerCriterion, speedTargetCriterion } from './criteria/latency.js';
import { parityCriterion } from './criteria/parity.js';
import { resourceCriteria, type ResourceUsage } from './criteria/resources.js';
import type { RouteEvidence } from './route-evidence.js';

export type Verdict = 'READY' | 'NOT_READY' | 'INSUFFICIENT_EVIDENCE';

export interface RouteVerdict {
  routeId: string;
  verdict: Verdict;
  /** Ids of the gating criteria that failed (NOT_READY) or could not say (INSUFFICIENT_EVIDENCE). */
  failed: string[];
  criteria: CriterionResult[];
  thresholds: GateThresholds;
  evidence: Omit<RouteEvidence, 'latency'> & { latency: { basis: RouteEvidence['latency']['basis']; legacySamples: number; reimplSamples: number } };
}

/** Every criterion of a route, in the order they are shown. */
export function criteriaFor(evidence: RouteEvidence, thresholds: GateThresholds, resources?: ResourceUsage): CriterionResult[] {
  return [
    comparedCriterion(evidence, thresholds),
    ignoredCriterion(evidence, thresholds),
    parityCriterion(evidence, thresholds),
    errorIncreaseCriterion(evidence, thresholds),
    errorCeilingCriterion(evidence, thresholds),
    slowerCriterion(evidence, thresholds),
    p99Criterion(evidence, thresholds),
    speedTargetCriterion(evidence, thresholds),
    ...resourceCriteria(resources, thresholds),
  ];
}

export function judge(evidence: RouteEvidence, thresholds: GateThresholds, resources?: ResourceUsage): RouteVerdict {
  const criteria = criteriaFor(evidence, thresholds, resources);
  const gating = criteria.filter((criterion) => criterion.gating);
  const failing = gating.filter((criterion) => criterion.status === 'fail');
  const open = gating.filter((criterion) => criterion.status === 'inconclusive' || criterion.status === 'unmeasured');
  const verdict: Verdict = failing.length ? 'NOT_READY' : open.length ? 'INSUFFICIENT_EVIDENCE' : 'READY';
  const { latency, ...rest } = evidence;
  return {
    routeId: evidence.routeId,
    verdict,
    failed: (failing.length ? failing : open).map((criterion) => criterion.id),
    criteria,
    thresholds,
    evidence: { ...rest, latency: { basis: latency.basis, legacySamples: latency.legacy.count, reimplSamples: latency.reimpl.count } },
  };
}

/** The worst of several verdicts: NOT_READY over INSUFFICIENT_EVIDENCE over READY. */
export function worstVerdict(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes('NOT_READY')) return 'NOT_READY';
  if (verdicts.includes('INSUFFICIENT_EVIDENCE')) return 'INSUFFICIENT_EVIDENCE';
  return 'READY';
}

/** `cutover gate`'s exit codes, so CI can gate on them (1 and 2 are the CLI's error and usage codes). */
export const gateExitCodes: Readonly<Record<Verdict, number>> = Object.freeze({ READY: 0, NOT_READY: 3, INSUFFICIENT_EVIDENCE: 4 });
