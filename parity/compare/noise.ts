/**
 * Calibrated noise (Diffy's idea, per field): `cutover calibrate` learns from legacy against
 * legacy which paths differ by nature and how; a legacy-vs-reimplementation difference at
 * such a path is noise only when it stays within what legacy-vs-legacy does, and only when
 * both values keep the field's kind (a uuid stays a uuid, a timestamp its format, a count an
 * integer). Anything else at a noisy path is still a mismatch.
 */
import type { JsonValue } from './json-text.js';
import { JsonNumber } from './json-text.js';
import { generalisePath, type PathStep } from './json-path.js';
import { parseTimestamp, valueKind, type ValueKind } from './values.js';

/** What legacy-vs-legacy showed at one path (array indexes as `[*]`). */
export interface NoisyPath {
  /** `always`: every sample pair differed here; `sometimes`: some did (see `rate`). */
  varies: 'always' | 'sometimes';
  /** Fraction of sample pairs that differed here, (0, 1]. */
  rate: number;
  /** The kind every legacy value had; a reimplementation value of another kind is a mismatch. */
  kind: ValueKind;
  /** For timestamps: the format legacy writes (digits as 9, see values.ts parseTimestamp). */
  format?: string;
  /** For numbers and integers: the smallest and largest value legacy answered. */
  range?: { min: number; max: number };
  /** Largest legacy-vs-legacy distance: |a − b| for numbers, milliseconds for timestamps. Unset: any distance. */
  maxDelta?: number;
  /** Set by a person (pinned or overruled in the route's rules); calibrate does not overwrite it. */
  pinned?: boolean;
}

/** One route's calibrated noise, as engine D's `cutover calibrate` stores it. */
export interface NoiseProfile {
  /** Names this calibration in dispositions and reports, e.g. `sync.gis-export.run@2024-05-01T12:00:00Z`. */
  id: string;
  routeId: string;
  /** Legacy-vs-legacy sample pairs it was learned from. */
  samples: number;
  /** Keyed by generalised JSON path (`$.jobs[*].job_id`). */
  paths: Readonly<Record<string, NoisyPath>>;
}

/** How far past the calibrated spread a difference may go and still be noise. */
export interface NoiseThresholds {
  /** Fraction added to `maxDelta` and to the width of `range` (default 0.1: 10 % more than seen). */
  relativeSlack: number;
  /** Absolute amount added to both (default 0). */
  absoluteSlack: number;
}

export const defaultNoiseThresholds: NoiseThresholds = Object.freeze({ relativeSlack: 0.1, absoluteSlack: 0 });

export type NoiseJudgement = { noise: true } | { noise: false; detail: string } | undefined;

/**
 * Whether the profile explains a difference: undefined when no noisy path covers it, noise
 * when it is within bounds, otherwise a mismatch with the reason (kind broken or beyond bounds).
 */
export function judgeNoise(
  profile: NoiseProfile,
  steps: readonly PathStep[],
  kind: string,
  legacy: JsonValue | undefined,
  reimpl: JsonValue | undefined,
  thresholds: NoiseThresholds = defaultNoiseThresholds,
): NoiseJudgement {
  const entry = profile.paths[generalisePath(steps)];
  if (!entry) return undefined;
  if (legacy === undefined || reimpl === undefined) return { noise: false, detail: `${kind}: legacy-vs-legacy varied the value here, never its presence` };
  const legacyKind = valueKind(legacy);
  const reimplKind = valueKind(reimpl);
  if (reimplKind !== entry.kind || legacyKind !== entry.kind) {
    return { noise: false, detail: `noisy ${entry.kind} field, but legacy gave ${legacyKind} and the reimplementation ${reimplKind}` };
  }
  const widen = (delta: number) => delta * (1 + thresholds.relativeSlack) + thresholds.absoluteSlack;
  if (entry.kind === 'timestamp') {
    const a = parseTimestamp(legacy as string)!;
    const b = parseTimestamp(reimpl as string)!;
    const format = entry.format ?? a.format;
    if (b.format !== format) return { noise: false, detail: `noisy timestamp whose format changed: legacy ${format}, reimplementation ${b.format}` };
    const distance = Math.abs(a.epochMs - b.epochMs);
    if (entry.maxDelta !== undefined && distance > widen(entry.maxDelta)) {
      return { noise: false, detail: `${distance.toFixed(3)} ms apart; legacy-vs-legacy at most ${entry.maxDelta} ms` };
    }
    return { noise: true };
  }
  if (entry.kind === 'integer' || entry.kind === 'number') {
    const a = Number((legacy as JsonNumber).text);
    const b = Number((reimpl as JsonNumber).text);
    if (entry.maxDelta !== undefined && Math.abs(a - b) > widen(entry.maxDelta)) {
      return { noise: false, detail: `differs by ${Math.abs(a - b)}; legacy-vs-legacy at most ${entry.maxDelta}` };
    }
    if (entry.range) {
      const margin = widen(entry.range.max - entry.range.min) - (entry.range.max - entry.range.min);
      if (b < entry.range.min - margin || b > entry.range.max + margin) {
        return { noise: false, detail: `${b} outside legacy's range [${entry.range.min}, ${entry.range.max}]` };
      }
    }
    return { noise: true };
  }
  return { noise: true };
}
