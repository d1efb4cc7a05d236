/**
 * Timestamps by format and by value. Legacy writes naive microsecond ISO
 * (`2024-05-01T12:00:00.123456`, Python's isoformat of utcnow); a reimplementation writing
 * `…Z` or milliseconds changes what a client parses, so the format must match unless the rule
 * says `format: any`; the instants must lie within the rule's tolerance.
 */
import { parseTimestamp } from './values.js';
import type { PathRule } from './rules.js';

export type TimestampRule = Extract<PathRule, { as: 'timestamp' }>;

export interface TimestampVerdict {
  kind: 'timestamp' | 'type';
  detail: string;
  /** Same format, different instants, and the rule compares formats only: the rule explains it. */
  formatOnly?: boolean;
}

/** Undefined when the two timestamps are equal under the rule; otherwise why not (`formatOnly` when only the instant differs and no tolerance is set). */
export function compareTimestamps(legacy: string, reimpl: string, rule: Pick<TimestampRule, 'toleranceMs' | 'format'>): TimestampVerdict | undefined {
  if (legacy === reimpl) return undefined;
  const a = parseTimestamp(legacy);
  const b = parseTimestamp(reimpl);
  if (!a || !b) return { kind: 'type', detail: `not an ISO-8601 timestamp: ${!a ? 'legacy' : 'reimplementation'}` };
  if (rule.format === 'same' && a.format !== b.format) {
    return { kind: 'timestamp', detail: `format differs: legacy ${a.format}, reimplementation ${b.format}` };
  }
  const distance = Math.abs(a.epochMs - b.epochMs);
  if (rule.toleranceMs === undefined) return distance === 0 ? undefined : { kind: 'timestamp', detail: `${distance.toFixed(3)} ms apart, same format`, formatOnly: true };
  if (distance > rule.toleranceMs) return { kind: 'timestamp', detail: `${distance.toFixed(3)} ms apart, tolerance ${rule.toleranceMs} ms` };
  return undefined;
}
