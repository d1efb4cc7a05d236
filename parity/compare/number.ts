/**
 * Numbers as written. Python writes floats as `1.0` and `1e-05` where JavaScript writes `1`
 * and `0.00001`: the same value, but a strict client (a schema validator, a string compare,
 * an integer parser) sees the difference, so it is its own kind, `number-rendering`. Values
 * are equal within a rule's absolute or relative tolerance.
 */
import type { PathRule } from './rules.js';

export type NumberRule = Extract<PathRule, { as: 'number' }>;

export interface NumberVerdict {
  kind: 'value' | 'number-rendering';
  detail: string;
}

const integerText = /^-?\d+$/;

function sameValue(a: string, b: string): boolean {
  // Integers past 2^53 collapse to one double; compare them exactly.
  if (integerText.test(a) && integerText.test(b)) return BigInt(a) === BigInt(b);
  return Number(a) === Number(b);
}

/** Undefined when the two numbers are equal under the rule; otherwise what kind of difference they are. */
export function compareNumbers(legacy: string, reimpl: string, rule?: NumberRule): NumberVerdict | undefined {
  if (legacy === reimpl) return undefined;
  const strict = rule?.rendering !== 'loose';
  if (sameValue(legacy, reimpl)) {
    return strict ? { kind: 'number-rendering', detail: `same value written ${legacy} by legacy and ${reimpl} by the reimplementation` } : undefined;
  }
  if (rule && (rule.absolute !== undefined || rule.relative !== undefined)) {
    const a = Number(legacy);
    const b = Number(reimpl);
    const delta = Math.abs(a - b);
    const scale = Math.max(Math.abs(a), Math.abs(b));
    const withinAbsolute = rule.absolute !== undefined && delta <= rule.absolute;
    const withinRelative = rule.relative !== undefined && scale > 0 && delta / scale <= rule.relative;
    if (withinAbsolute || withinRelative) return undefined;
    const limits = [rule.absolute !== undefined ? `absolute ${rule.absolute}` : '', rule.relative !== undefined ? `relative ${rule.relative}` : ''].filter(Boolean).join(', ');
    return { kind: 'value', detail: `differs by ${delta} (${scale > 0 ? (delta / scale).toPrecision(3) : 'n/a'} relative), beyond ${limits}` };
  }
  return { kind: 'value', detail: '' };
}
