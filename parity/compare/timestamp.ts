/**
 * Timestamps by format, by value and by their relations. Legacy writes naive microsecond ISO
 * (`2024-05-01T12:00:00.123456`, Python's isoformat of utcnow); a reimplementation writing
 * `…Z` or milliseconds changes what a client parses, so the format must match unless the rule
 * says `format: any`. With a tolerance the instants must lie within it. Without one (job
 * timestamps: no two runs share an instant) each side's value is held to what it can be
 * checked against: inside that side's own window (from the request that created the job to
 * the answer that shows it) and in order with its siblings (created ≤ started ≤ completed);
 * a difference that keeps all of it is `within-window`, which counts as matched. Durations
 * likewise: the kind kept, not negative, no longer than the window, inside a stated range.
 */
import { JsonNumber, type JsonValue } from './json-text.js';
import type { PathRule } from './rules.js';
import { parseTimestamp, valueKind } from './values.js';

export type TimestampRule = Extract<PathRule, { as: 'timestamp' }>;
export type DurationRule = Extract<PathRule, { as: 'duration' }>;

/** When one side's answer could have been written, in epoch milliseconds of the harness's clock. */
export interface TimeWindow {
  /** The request that created the job this answer shows was sent (unknown for a job made before, or elsewhere). */
  jobAskedAt?: number;
  /** This request was sent. */
  askedAt?: number;
  /** This answer was read whole. */
  answeredAt?: number;
}

/** What a comparator sees of one side beyond the value: its window and the object holding the value. */
export interface SideContext {
  window?: TimeWindow | undefined;
  parent?: Readonly<Record<string, JsonValue>> | undefined;
}

export interface TimestampVerdict {
  kind: 'timestamp' | 'type';
  detail: string;
  /**
   * The values differ and every check passed: `window` when the sides' windows checked the
   * instants (the difference is within-window), `unchecked` when no window was known (the rule
   * explains it: ignored).
   */
  settled?: 'window' | 'unchecked';
}

type Sides = { legacy?: SideContext | undefined; reimpl?: SideContext | undefined };

const iso = (epochMs: number) => new Date(Math.floor(epochMs)).toISOString();

/**
 * The relations one side's timestamp breaks: its window (always a fault: a clock is wrong) and,
 * keyed by sibling, its siblings' order (legacy's own order is the contract: a job whose states a
 * client set out of order on legacy may be out of order on the reimplementation too).
 */
function brokenRelations(name: 'legacy' | 'reimplementation', epochMs: number, rule: Pick<TimestampRule, 'window' | 'notBefore' | 'windowSlackMs'>, side: SideContext | undefined): { window: string[]; order: Map<string, string> } {
  const broken: string[] = [];
  const order = new Map<string, string>();
  const window = side?.window;
  const slack = rule.windowSlackMs ?? 5;
  const opens = rule.window === 'answer' ? window?.askedAt : window?.jobAskedAt;
  if (opens !== undefined && epochMs < opens - slack) {
    broken.push(`${name} ${iso(epochMs)} is before its window opened at ${iso(opens)} (${rule.window === 'answer' ? 'the request' : 'the request that created the job'})`);
  }
  if (window?.answeredAt !== undefined && epochMs > window.answeredAt + slack) {
    broken.push(`${name} ${iso(epochMs)} is after its answer was read at ${iso(window.answeredAt)}`);
  }
  for (const sibling of rule.notBefore ?? []) {
    const value = side?.parent?.[sibling];
    const other = typeof value === 'string' ? parseTimestamp(value) : undefined;
    if (other && epochMs < other.epochMs) order.set(sibling, `${name} is earlier than its ${sibling} ${value as string}`);
  }
  return { window: broken, order };
}

const knowsWindow = (rule: Pick<TimestampRule, 'window'>, side: SideContext | undefined) =>
  side?.window?.answeredAt !== undefined || (rule.window === 'answer' ? side?.window?.askedAt : side?.window?.jobAskedAt) !== undefined;

/** Undefined when the two timestamps are equal under the rule; otherwise why not, or how a difference was settled. */
export function compareTimestamps(
  legacy: string,
  reimpl: string,
  rule: Pick<TimestampRule, 'toleranceMs' | 'format'> & Partial<Pick<TimestampRule, 'window' | 'notBefore' | 'windowSlackMs'>>,
  sides: Sides = {},
): TimestampVerdict | undefined {
  const a = parseTimestamp(legacy);
  const b = parseTimestamp(reimpl);
  // Two equal values that are no timestamps (state-parity's `<timestamp>` markers of row values) are the same value.
  if ((!a || !b) && legacy === reimpl) return undefined;
  if (!a || !b) return { kind: 'type', detail: `not an ISO-8601 timestamp: ${!a ? 'legacy' : 'reimplementation'}` };
  if (rule.format === 'same' && a.format !== b.format) {
    return { kind: 'timestamp', detail: `format differs: legacy ${a.format}, reimplementation ${b.format}` };
  }
  const relational = { window: rule.window ?? 'job', notBefore: rule.notBefore ?? [], windowSlackMs: rule.windowSlackMs ?? 5 };
  const left = brokenRelations('legacy', a.epochMs, relational, sides.legacy);
  const right = brokenRelations('reimplementation', b.epochMs, relational, sides.reimpl);
  // An order both sides break alike is legacy's behaviour reproduced; an order only one side breaks is a difference.
  const orderDiffers = [...new Set([...left.order.keys(), ...right.order.keys()])].filter((sibling) => left.order.has(sibling) !== right.order.has(sibling)).map((sibling) => left.order.get(sibling) ?? right.order.get(sibling)!);
  const broken = [...left.window, ...right.window, ...orderDiffers];
  if (broken.length > 0) return { kind: 'timestamp', detail: broken.join('; ') };
  if (legacy === reimpl) return undefined;
  const distance = Math.abs(a.epochMs - b.epochMs);
  if (rule.toleranceMs !== undefined) {
    return distance > rule.toleranceMs ? { kind: 'timestamp', detail: `${distance.toFixed(3)} ms apart, tolerance ${rule.toleranceMs} ms` } : undefined;
  }
  if (distance === 0) return undefined;
  if (knowsWindow(relational, sides.legacy) || knowsWindow(relational, sides.reimpl)) {
    return { kind: 'timestamp', detail: `${distance.toFixed(3)} ms apart; each inside its own window, same format, order kept`, settled: 'window' };
  }
  return { kind: 'timestamp', detail: `${distance.toFixed(3)} ms apart, same format; no window to check the instants against`, settled: 'unchecked' };
}

const unitMs = { s: 1000, ms: 1 } as const;

/** Undefined when the two durations are equal; otherwise why they differ, or how a difference was settled (as for timestamps). */
export function compareDurations(legacy: JsonValue, reimpl: JsonValue, rule: Pick<DurationRule, 'unit' | 'range'>, sides: Sides = {}): TimestampVerdict | undefined {
  if (!(legacy instanceof JsonNumber) || !(reimpl instanceof JsonNumber)) return { kind: 'type', detail: 'a duration is a number' };
  const legacyKind = valueKind(legacy);
  const reimplKind = valueKind(reimpl);
  if (legacyKind !== reimplKind) return { kind: 'type', detail: `a duration kept as ${legacyKind === 'integer' ? 'an integer' : 'a decimal'} by legacy, written as ${reimplKind === 'integer' ? 'an integer' : 'a decimal'}` };
  const broken: string[] = [];
  let bounded = rule.range !== undefined;
  for (const [name, value, side] of [['legacy', legacy, sides.legacy], ['reimplementation', reimpl, sides.reimpl]] as const) {
    const amount = Number(value.text);
    if (amount < 0) broken.push(`${name} ${value.text} ${rule.unit} is negative`);
    if (rule.range && (amount < rule.range.min || amount > rule.range.max)) broken.push(`${name} ${value.text} ${rule.unit} outside [${rule.range.min}, ${rule.range.max}]`);
    const window = side?.window;
    const opens = window?.jobAskedAt ?? window?.askedAt;
    if (opens !== undefined && window?.answeredAt !== undefined) {
      bounded = true;
      const longest = (window.answeredAt - opens + 5) / unitMs[rule.unit];
      if (amount > longest) broken.push(`${name} ${value.text} ${rule.unit} is longer than its window (${longest.toFixed(3)} ${rule.unit})`);
    }
  }
  if (broken.length > 0) return { kind: 'timestamp', detail: broken.join('; ') };
  if (legacy.text === reimpl.text) return undefined;
  return bounded
    ? { kind: 'timestamp', detail: `${legacy.text} vs ${reimpl.text} ${rule.unit}; both within bounds`, settled: 'window' }
    : { kind: 'timestamp', detail: `${legacy.text} vs ${reimpl.text} ${rule.unit}; no window or range to check them against`, settled: 'unchecked' };
}
