/**
 * The structural walk over two JSON documents (numbers as written), applying the route's
 * per-path comparators where a rule names the path and the plain structural comparison
 * elsewhere. It finds differences; it does not decide what they mean (engine.ts does).
 */
import { JsonNumber, type JsonValue } from './json-text.js';
import { parsePathPattern, patternNames, type PathPattern, type PathStep } from './json-path.js';
import { compareGeometries } from './geometry.js';
import { compareNumbers } from './number.js';
import type { PathRule } from './rules.js';
import { compareTexts } from './text.js';
import { compareDurations, compareTimestamps, type SideContext, type TimeWindow, type TimestampVerdict } from './timestamp.js';
import { canonical, isUuid, jsonType } from './values.js';

export type FoundKind = 'value' | 'type' | 'missing' | 'extra' | 'number-rendering' | 'timestamp' | 'geometry' | 'array-order' | 'text';

/** A difference found by the walk, values kept as parsed so dispositions can look at them. */
export interface Found {
  steps: PathStep[];
  kind: FoundKind;
  legacy?: JsonValue;
  reimpl?: JsonValue;
  detail?: string;
  /** The rule that explains the difference unless something better does: two valid uuids (only a correlation can pair them), two timestamps no window could check. */
  explainedBy?: string;
  /** Two timestamps or durations that differ but each keep their side's window, order, format and kind: a match. */
  withinWindow?: boolean;
}

/** Each side's window (engine.ts Exchange.window), for the relational timestamp and duration checks. */
export interface SideWindows {
  legacy?: TimeWindow | undefined;
  reimpl?: TimeWindow | undefined;
}

/** Path rules grouped by pattern length, so a node looks only at the rules that can name it. */
export class CompiledPathRules {
  private readonly byLength = new Map<number, Array<{ pattern: PathPattern; rule: PathRule }>>();
  readonly empty: boolean;
  /** True when some rule checks values against each side's window (timestamps, durations): equal bodies still need the walk. */
  readonly relational: boolean;

  constructor(paths: Readonly<Record<string, PathRule>> | undefined) {
    let relational = false;
    for (const [text, rule] of Object.entries(paths ?? {})) {
      const pattern = parsePathPattern(text);
      if (!pattern) continue;
      if ((rule.as === 'timestamp' && rule.toleranceMs === undefined) || rule.as === 'duration') relational = true;
      const list = this.byLength.get(pattern.steps.length) ?? [];
      list.push({ pattern, rule });
      this.byLength.set(pattern.steps.length, list);
    }
    this.empty = this.byLength.size === 0;
    this.relational = relational;
  }

  /** The rule naming exactly this path, with its pattern text. */
  at(path: readonly PathStep[]): { pattern: string; rule: PathRule } | undefined {
    if (this.empty) return undefined;
    const candidates = this.byLength.get(path.length);
    if (!candidates) return undefined;
    for (const { pattern, rule } of candidates) if (patternNames(pattern, path)) return { pattern: pattern.text, rule };
    return undefined;
  }
}

/** Plain JavaScript value of a parsed document (numbers as doubles), for comparators that do arithmetic. */
export function toPlain(value: JsonValue): unknown {
  if (value instanceof JsonNumber) return Number(value.text);
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]));
  return value;
}

export class JsonDiff {
  readonly found: Found[] = [];
  /** The objects holding the node being compared, legacy's and the reimplementation's (siblings for timestamp order). */
  private readonly parents: Array<readonly [Record<string, JsonValue>, Record<string, JsonValue>]> = [];
  constructor(
    private readonly rules: CompiledPathRules,
    private readonly limit: number,
    private readonly windows: SideWindows = {},
  ) {}

  private sides(): { legacy: SideContext; reimpl: SideContext } {
    const parent = this.parents[this.parents.length - 1];
    return { legacy: { window: this.windows.legacy, parent: parent?.[0] }, reimpl: { window: this.windows.reimpl, parent: parent?.[1] } };
  }

  /** A timestamp or duration verdict as a Found: settled within the windows, explained by the rule, or a mismatch. */
  private settle(verdict: TimestampVerdict, a: JsonValue, b: JsonValue, path: PathStep[], pattern: string, rule: string): void {
    const settled = verdict.settled === 'window' ? { withinWindow: true } : verdict.settled === 'unchecked' ? { explainedBy: `${pattern} as ${rule}` } : {};
    this.push({ steps: [...path], kind: verdict.kind, legacy: a, reimpl: b, detail: verdict.detail, ...settled });
  }

  get full(): boolean {
    return this.found.length >= this.limit;
  }

  walk(a: JsonValue, b: JsonValue, path: PathStep[]): void {
    if (this.full) return;
    const named = this.rules.at(path);
    if (named && this.byRule(a, b, path, named.rule, named.pattern)) return;
    const type = jsonType(a);
    if (type !== jsonType(b)) return this.push({ steps: [...path], kind: 'type', legacy: a, reimpl: b });
    if (type === 'array') return this.ordered(a as JsonValue[], b as JsonValue[], path);
    if (type === 'object') return this.object(a as Record<string, JsonValue>, b as Record<string, JsonValue>, path);
    if (type === 'number') {
      const verdict = compareNumbers((a as JsonNumber).text, (b as JsonNumber).text);
      if (verdict) this.push({ steps: [...path], kind: verdict.kind, legacy: a, reimpl: b, ...(verdict.detail ? { detail: verdict.detail } : {}) });
      return;
    }
    if (a !== b) this.push({ steps: [...path], kind: 'value', legacy: a, reimpl: b });
  }

  private push(found: Found): void {
    if (!this.full) this.found.push(found);
  }

  /** Applies a path rule; false when the rule does not decide this node (the plain walk continues). */
  private byRule(a: JsonValue, b: JsonValue, path: PathStep[], rule: PathRule, pattern: string): boolean {
    const here = () => [...path];
    const typeMismatch = (expected: string) => {
      this.push({ steps: here(), kind: 'type', legacy: a, reimpl: b, detail: `${pattern} is ${expected}` });
      return true;
    };
    // Two nulls are the same value under any rule (a job not started yet has a null started_at on both sides).
    if (a === null && b === null) return true;
    switch (rule.as) {
      case 'number': {
        if (!(a instanceof JsonNumber) || !(b instanceof JsonNumber)) return typeMismatch('a number');
        const verdict = compareNumbers(a.text, b.text, rule);
        if (verdict) this.push({ steps: here(), kind: verdict.kind, legacy: a, reimpl: b, detail: verdict.detail });
        return true;
      }
      case 'timestamp': {
        if (typeof a !== 'string' || typeof b !== 'string') return typeMismatch('a timestamp');
        const verdict = compareTimestamps(a, b, rule, this.sides());
        if (verdict) this.settle(verdict, a, b, path, pattern, 'timestamp');
        return true;
      }
      case 'duration': {
        const verdict = compareDurations(a, b, rule, this.sides());
        if (verdict) this.settle(verdict, a, b, path, pattern, 'duration');
        return true;
      }
      case 'uuid': {
        if (typeof a !== 'string' || typeof b !== 'string' || !isUuid(a) || !isUuid(b)) return typeMismatch('a uuid');
        if (a !== b) this.push({ steps: here(), kind: 'value', legacy: a, reimpl: b, explainedBy: `${pattern} as uuid` });
        return true;
      }
      case 'set':
        if (!Array.isArray(a) || !Array.isArray(b)) return typeMismatch('an array');
        this.set(a, b, path, rule.key);
        return true;
      case 'list':
        if (!Array.isArray(a) || !Array.isArray(b)) return typeMismatch('an array');
        this.ordered(a, b, path);
        return true;
      case 'geometry': {
        const why = compareGeometries(toPlain(a), toPlain(b), rule.epsilon);
        if (why) this.push({ steps: here(), kind: 'geometry', legacy: a, reimpl: b, detail: why });
        return true;
      }
      case 'text': {
        if (typeof a !== 'string' || typeof b !== 'string') return typeMismatch('text');
        const why = compareTexts(a, b, rule);
        if (why) this.push({ steps: here(), kind: 'text', legacy: a, reimpl: b, detail: why });
        return true;
      }
      default:
        // `exact` and `file` (a whole-body rule the engine applies) fall through to the plain walk.
        return false;
    }
  }

  private object(a: Record<string, JsonValue>, b: Record<string, JsonValue>, path: PathStep[]): void {
    this.parents.push([a, b]);
    for (const key of Object.keys(a)) {
      if (this.full) break;
      path.push(key);
      if (!Object.hasOwn(b, key)) this.push({ steps: [...path], kind: 'missing', legacy: a[key]! });
      else this.walk(a[key]!, b[key]!, path);
      path.pop();
    }
    this.parents.pop();
    for (const key of Object.keys(b)) {
      if (this.full) return;
      if (Object.hasOwn(a, key)) continue;
      path.push(key);
      this.push({ steps: [...path], kind: 'extra', reimpl: b[key]! });
      path.pop();
    }
  }

  /** Index by index; when every difference is only the order of the same items, one `array-order` difference says so. */
  private ordered(a: JsonValue[], b: JsonValue[], path: PathStep[]): void {
    const before = this.found.length;
    const length = Math.max(a.length, b.length);
    for (let i = 0; i < length && !this.full; i++) {
      path.push(i);
      if (i >= a.length) this.push({ steps: [...path], kind: 'extra', reimpl: b[i]! });
      else if (i >= b.length) this.push({ steps: [...path], kind: 'missing', legacy: a[i]! });
      else this.walk(a[i]!, b[i]!, path);
      path.pop();
    }
    // Reordered items differ in fields no rule explains; when every difference is rule-explained
    // (ids, timestamps per item) the costly multiset check cannot change the outcome: skip it.
    const unexplained = this.found.length > before && this.found.some((found, i) => i >= before && found.explainedBy === undefined && !found.withinWindow);
    if (unexplained && a.length === b.length && sameMultiset(a, b)) {
      this.found.length = before;
      this.push({ steps: [...path], kind: 'array-order', detail: `the same ${a.length} items in another order` });
    }
  }

  /** Items paired by a key field (or by their whole value): order does not matter, missing and extra items do. */
  private set(a: JsonValue[], b: JsonValue[], path: PathStep[], key: string | undefined): void {
    const identity = (item: JsonValue) => {
      if (key === undefined) return canonical(item);
      const field = item !== null && typeof item === 'object' && !Array.isArray(item) && !(item instanceof JsonNumber) ? item[key] : undefined;
      return field === undefined ? `#no-key:${canonical(item)}` : canonical(field);
    };
    const unpaired = new Map<string, number[]>();
    b.forEach((item, i) => {
      const id = identity(item);
      const list = unpaired.get(id);
      if (list) list.push(i);
      else unpaired.set(id, [i]);
    });
    a.forEach((item, i) => {
      if (this.full) return;
      path.push(i);
      const match = unpaired.get(identity(item))?.shift();
      if (match === undefined) this.push({ steps: [...path], kind: 'missing', legacy: item, detail: key ? `no item with the same ${key}` : 'no equal item' });
      else this.walk(item, b[match]!, path);
      path.pop();
    });
    for (const indexes of unpaired.values()) {
      for (const i of indexes) {
        path.push(i);
        this.push({ steps: [...path], kind: 'extra', reimpl: b[i]!, detail: key ? `no item with the same ${key}` : 'no equal item' });
        path.pop();
      }
    }
  }
}

function sameMultiset(a: readonly JsonValue[], b: readonly JsonValue[]): boolean {
  const left = a.map(canonical).sort();
  const right = b.map(canonical).sort();
  return left.every((item, i) => item === right[i]);
}
