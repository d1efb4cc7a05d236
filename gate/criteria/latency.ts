/**
 * Latency, judged on samples measured the same way for both sides (the basis is named in each
 * detail): the reimplementation is not significantly slower (Mann-Whitney U, one-sided) and its
 * p99 is at most the ratio of legacy's. The seed's 30%-faster target is shown, advisory.
 */
import type { GateThresholds } from '../../src/config/schema.js';
import type { CriterionResult } from '../criterion.js';
import type { RouteEvidence } from '../route-evidence.js';
import { mannWhitneyFromRanks } from '../statistics/mann-whitney.js';
import { ratioOf } from '../statistics/percentile.js';

const basisText = { 'concurrent-copies': 'both sides as concurrent copies of the same requests', 'canary-split': 'each side serving its share of a canary split' } as const;

function samples(evidence: RouteEvidence, thresholds: GateThresholds): { enough: boolean; text: string } {
  const { legacy, reimpl, basis } = evidence.latency;
  const enough = legacy.count >= thresholds.minLatencySamples && reimpl.count >= thresholds.minLatencySamples;
  return { enough, text: `${reimpl.count} reimpl and ${legacy.count} legacy samples, ${basisText[basis]}${enough ? '' : ` (needs ${thresholds.minLatencySamples} each)`}` };
}

/** Mann-Whitney U, H1 reimpl slower: fails when significant at the confidence. */
export function slowerCriterion(evidence: RouteEvidence, thresholds: GateThresholds): CriterionResult {
  const { enough, text } = samples(evidence, thresholds);
  const { latency } = evidence;
  const test = mannWhitneyFromRanks(latency.reimpl.count, latency.legacy.count, latency.reimplRankSum, latency.tieTerm);
  const alpha = 1 - thresholds.confidence;
  return {
    id: 'latency.not-slower',
    title: `one-sided Mann-Whitney p-value that reimpl is slower (fails under ${alpha.toFixed(2)})`,
    value: enough ? test.pValue : null,
    comparison: '>=',
    threshold: alpha,
    status: !enough ? 'inconclusive' : test.pValue >= alpha ? 'pass' : 'fail',
    gating: true,
    detail: `${text}; U = ${test.u}, ${test.method}`,
  };
}

/** reimpl p99 / legacy p99 against the ratio. */
export function p99Criterion(evidence: RouteEvidence, thresholds: GateThresholds): CriterionResult {
  const { enough, text } = samples(evidence, thresholds);
  const ratio = ratioOf(evidence.latency.reimpl.p99, evidence.latency.legacy.p99);
  return {
    id: 'latency.p99-ratio',
    title: 'reimpl p99 / legacy p99',
    value: ratio,
    comparison: '<=',
    threshold: thresholds.maxP99Ratio,
    status: !enough || ratio === null ? 'inconclusive' : ratio <= thresholds.maxP99Ratio ? 'pass' : 'fail',
    gating: true,
    detail: text,
  };
}

/** The seed's target, at least 30% faster at the median: advisory, met or not. */
export function speedTargetCriterion(evidence: RouteEvidence, thresholds: GateThresholds): CriterionResult {
  const { enough, text } = samples(evidence, thresholds);
  const ratio = ratioOf(evidence.latency.reimpl.p50, evidence.latency.legacy.p50);
  return {
    id: 'latency.speed-target',
    title: `seed target: reimpl median at most ${thresholds.targetMedianRatio} of legacy's (${Math.round((1 - thresholds.targetMedianRatio) * 100)}% faster)`,
    value: ratio,
    comparison: '<=',
    threshold: thresholds.targetMedianRatio,
    status: !enough || ratio === null ? 'inconclusive' : ratio <= thresholds.targetMedianRatio ? 'pass' : 'fail',
    gating: false,
    detail: text,
  };
}
