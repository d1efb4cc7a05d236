/**
 * What one criterion of the readiness gate says: its measured value beside its threshold, and
 * pass, fail (the evidence says no), inconclusive (not enough evidence to say) or unmeasured.
 * Advisory criteria are shown and never decide the verdict.
 */

export type CriterionStatus = 'pass' | 'fail' | 'inconclusive' | 'unmeasured';

export interface CriterionResult {
  /** Stable id, `<group>.<name>` (evidence.compared, parity.lower-bound, ...). */
  id: string;
  /** What it asks, in a line. */
  title: string;
  /** The measured value (a count, a rate, a ratio, a p-value); null when nothing was measured. */
  value: number | null;
  /** How the value is held against the threshold. */
  comparison: '>=' | '<=';
  threshold: number;
  status: CriterionStatus;
  /** False for advisory criteria: shown as met or not, never gating. */
  gating: boolean;
  /** How it was measured, in a line (interval, counts, sample basis). */
  detail: string;
  /** What is missing: observations, the requests they take at the route's sample (observations / sample), and when at the window's rate. */
  needs?: { observations: number; requests: number; etaMs: number | null; ratePerHour: number | null };
}

