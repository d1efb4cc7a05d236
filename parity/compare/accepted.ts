/**
 * Accepted differences: the declared, intentional places where the reimplementation does not
 * copy legacy (a bug fixed, a leak closed). Each entry names routes, paths, and the values it
 * expects on each side, so it absorbs exactly the difference it was accepted for, nothing wider.
 */
import type { JsonValue } from './json-text.js';
import { parsePathPattern, patternCovers, type PathPattern, type PathStep } from './json-path.js';
import { toPlain } from './json-diff.js';
import { renderFull } from './values.js';

/** What one side's value must be for an accepted difference to apply. */
export type ValueMatch = { equals: unknown } | { matches: string } | { absent: true };

/** One path (or `status`) an accepted difference absorbs, with the values it expects there. */
export interface Absorbs {
  path: string;
  legacy?: ValueMatch;
  reimpl?: ValueMatch;
  /** Only differences of these kinds (engine.ts DifferenceKind). */
  kinds?: readonly string[];
}

export interface AcceptedDifference {
  /** Stable id; REIMPL_FIXES names it when the reimplementation can switch the behaviour off. */
  id: string;
  /** Route ids (flags/routes.yaml) it applies to. */
  routes: readonly string[];
  absorbs: readonly Absorbs[];
  /** What the reimplementation does instead of legacy. */
  rule: string;
  reason: string;
  acceptedBy: string;
  /** For a behaviour the reimplementation can switch (REIMPL_FIXES): whether it is on unless told. */
  fix?: { default: 'on' | 'off' };
}

interface CompiledAbsorbs extends Absorbs {
  pattern: PathPattern | undefined;
}

const compiledCache = new WeakMap<AcceptedDifference, CompiledAbsorbs[]>();

function compile(entry: AcceptedDifference): CompiledAbsorbs[] {
  let compiled = compiledCache.get(entry);
  if (!compiled) {
    compiled = entry.absorbs.map((absorbs) => ({ ...absorbs, pattern: parsePathPattern(absorbs.path) }));
    compiledCache.set(entry, compiled);
  }
  return compiled;
}

function valueMatches(match: ValueMatch | undefined, value: JsonValue | undefined, rendered: string | undefined): boolean {
  if (!match) return true;
  const absent = value === undefined && rendered === undefined;
  if ('absent' in match) return absent;
  if (absent) return false;
  if ('equals' in match) return value !== undefined ? JSON.stringify(toPlain(value)) === JSON.stringify(match.equals) : rendered === JSON.stringify(match.equals);
  const text = typeof value === 'string' ? value : value !== undefined ? renderFull(value) : rendered!;
  return new RegExp(match.matches).test(text);
}

export interface DifferenceToAccept {
  routeId: string;
  /** Parsed steps for body differences; undefined for `status` and headers. */
  steps: readonly PathStep[] | undefined;
  path: string;
  kind: string;
  legacy?: JsonValue;
  reimpl?: JsonValue;
  /** Rendered values, for differences without parsed ones (status, headers). */
  legacyText?: string;
  reimplText?: string;
}

/** The accepted difference that absorbs this difference, if one does. */
export function findAccepted(entries: readonly AcceptedDifference[] | undefined, difference: DifferenceToAccept): AcceptedDifference | undefined {
  if (!entries || entries.length === 0) return undefined;
  for (const entry of entries) {
    if (!entry.routes.includes(difference.routeId)) continue;
    const absorbed = compile(entry).some((absorbs) => {
      const onPath = difference.steps ? absorbs.pattern !== undefined && patternCovers(absorbs.pattern, difference.steps) : absorbs.path === difference.path;
      if (!onPath) return false;
      if (absorbs.kinds && !absorbs.kinds.includes(difference.kind)) return false;
      return valueMatches(absorbs.legacy, difference.legacy, difference.legacyText) && valueMatches(absorbs.reimpl, difference.reimpl, difference.reimplText);
    });
    if (absorbed) return entry;
  }
  return undefined;
}
