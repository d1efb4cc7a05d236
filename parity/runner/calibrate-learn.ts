/**
 * What legacy-vs-legacy teaches: fed pairs of answers to the same request from two legacy
 * instances (or one instance asked twice), it keeps, per generalised JSON path, how many pairs
 * it saw there, how many differed, the kind the values had (uuid, timestamp with its format,
 * integer, number with its range, string) and the largest distance between the two. Stable
 * paths are kept too (rate 0), so the report can say "a count is stable", not only "noisy".
 */
import { JsonNumber, type JsonValue } from '../compare/json-text.js';
import { generalisePath, type PathStep } from '../compare/json-path.js';
import type { NoiseProfile, NoisyPath } from '../compare/noise.js';
import type { PinnedNoise, RouteCompareRules } from '../compare/rules.js';
import { canonical, parseTimestamp, valueKind, type ValueKind } from '../compare/values.js';

/** One path's calibration: a NoisyPath when it varied, or a stable one (rate 0). */
export interface LearnedPath {
  path: string;
  samples: number;
  differed: number;
  rate: number;
  varies: 'always' | 'sometimes' | 'never';
  kind: ValueKind;
  format?: string;
  range?: { min: number; max: number };
  maxDelta?: number;
  pinned?: boolean;
}

/** A route's calibration as stored: every path seen, stable ones included. */
export interface LearnedRoute {
  routeId: string;
  /** Sample pairs (requests sent to both legacy instances). */
  samples: number;
  learnedAt: string;
  paths: LearnedPath[];
}

interface Tally {
  samples: number;
  differed: number;
  kinds: Map<ValueKind, number>;
  formats: Map<string, number>;
  min?: number;
  max?: number;
  maxDelta?: number;
  /** Distances are only meaningful when every differing pair had one. */
  distanceKnown: boolean;
}

/** Paths kept per route at most: a body with a huge array cannot blow the store up. */
const maxPaths = 2000;

export class NoiseLearner {
  private readonly tallies = new Map<string, Tally>();
  private pairs = 0;
  private differedNow = 0;

  constructor(readonly routeId: string) {}

  /** One pair of answers to the same request; returns how many paths differed in it. */
  observe(a: JsonValue, b: JsonValue): number {
    this.pairs += 1;
    this.differedNow = 0;
    this.walk(a, b, []);
    return this.differedNow;
  }

  get samples(): number {
    return this.pairs;
  }

  private tally(path: readonly PathStep[]): Tally | undefined {
    const key = generalisePath(path);
    let tally = this.tallies.get(key);
    if (!tally) {
      if (this.tallies.size >= maxPaths) return undefined;
      tally = { samples: 0, differed: 0, kinds: new Map(), formats: new Map(), distanceKnown: true };
      this.tallies.set(key, tally);
    }
    return tally;
  }

  private walk(a: JsonValue | undefined, b: JsonValue | undefined, path: PathStep[]): void {
    const bothObjects = isObject(a) && isObject(b);
    const bothArrays = Array.isArray(a) && Array.isArray(b);
    if (bothObjects) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) this.walk(a[key], b[key], [...path, key]);
      return;
    }
    if (bothArrays) {
      // Same index, same path after generalisation: items are pooled under `[*]`.
      for (let i = 0; i < Math.max(a.length, b.length); i++) this.walk(a[i], b[i], [...path, i]);
      if (a.length !== b.length) this.leaf(a.length, b.length, [...path, 'length'], true);
      return;
    }
    this.leaf(a, b, path, false);
  }

  private leaf(a: JsonValue | number | undefined, b: JsonValue | number | undefined, path: PathStep[], lengths: boolean): void {
    const tally = this.tally(path);
    if (!tally) return;
    tally.samples += 1;
    const values = [a, b].filter((value) => value !== undefined).map((value) => (typeof value === 'number' ? new JsonNumber(String(value)) : value!));
    for (const value of values) {
      const kind = valueKind(value);
      tally.kinds.set(kind, (tally.kinds.get(kind) ?? 0) + 1);
      if (kind === 'timestamp') {
        const format = parseTimestamp(value as string)!.format;
        tally.formats.set(format, (tally.formats.get(format) ?? 0) + 1);
      }
      if (kind === 'integer' || kind === 'number') {
        const n = Number((value as JsonNumber).text);
        tally.min = Math.min(tally.min ?? n, n);
        tally.max = Math.max(tally.max ?? n, n);
      }
    }
    const same = a !== undefined && b !== undefined && !lengths && canonical(a as JsonValue) === canonical(b as JsonValue);
    if (same) return;
    if (lengths && a === b) return;
    tally.differed += 1;
    this.differedNow += 1;
    const distance = distanceOf(a, b);
    if (distance === undefined) tally.distanceKnown = false;
    else tally.maxDelta = Math.max(tally.maxDelta ?? 0, distance);
  }

  /** Every path seen, stable ones included, sorted by path. */
  learned(learnedAt = new Date().toISOString()): LearnedRoute {
    const paths: LearnedPath[] = [];
    for (const [path, tally] of [...this.tallies].sort(([x], [y]) => (x < y ? -1 : 1))) {
      const kind = mostCommon(tally.kinds) ?? 'null';
      const rate = tally.samples === 0 ? 0 : tally.differed / tally.samples;
      const numeric = (kind === 'integer' || kind === 'number') && tally.min !== undefined;
      paths.push({
        path,
        samples: tally.samples,
        differed: tally.differed,
        rate,
        varies: tally.differed === 0 ? 'never' : tally.differed === tally.samples ? 'always' : 'sometimes',
        kind,
        ...(kind === 'timestamp' ? { format: mostCommon(tally.formats)! } : {}),
        ...(numeric ? { range: { min: tally.min!, max: tally.max! } } : {}),
        ...(tally.differed > 0 && tally.distanceKnown && tally.maxDelta !== undefined ? { maxDelta: tally.maxDelta } : {}),
      });
    }
    return { routeId: this.routeId, samples: this.pairs, learnedAt, paths };
  }
}

/**
 * The engine's view: only the paths that varied, keyed by path. `overruled` are paths the
 * route's own rules (routes.yaml `compare.paths` / `compare.ignore`) name: what a person wrote
 * there outranks what calibration learned, so those paths are left out of the profile.
 */
export function toNoiseProfile(learned: LearnedRoute, overruled: ReadonlySet<string> = new Set()): NoiseProfile {
  const paths: Record<string, NoisyPath> = {};
  for (const entry of learned.paths) {
    if (entry.varies === 'never' || overruled.has(entry.path)) continue;
    paths[entry.path] = {
      varies: entry.varies,
      rate: entry.rate,
      kind: entry.kind,
      ...(entry.format ? { format: entry.format } : {}),
      ...(entry.range ? { range: entry.range } : {}),
      // A timestamp's legacy-vs-legacy distance is the jitter between two requests sent at once,
      // not a property of the answer: the reimplementation is held to the format, not to that jitter.
      ...(entry.maxDelta !== undefined && entry.kind !== 'timestamp' ? { maxDelta: entry.maxDelta } : {}),
      ...(entry.pinned ? { pinned: true } : {}),
    };
  }
  return { id: `${learned.routeId}@${learned.learnedAt}`, routeId: learned.routeId, samples: learned.samples, paths };
}

/**
 * A route's noise for the engine: what calibrate learnt (paths its rules compare or ignore
 * themselves, and those its rules turn `off`, left out) and what its rules pin. Undefined when
 * there is neither.
 */
export function routeNoise(routeId: string, learned: LearnedRoute | undefined, rules: RouteCompareRules | undefined): NoiseProfile | undefined {
  const stated = rules?.noise ?? {};
  const overruled = new Set([...(rules ? rulePaths(rules) : []), ...Object.keys(stated)]);
  const profile = learned ? toNoiseProfile(learned, overruled) : undefined;
  const pinned = Object.entries(stated).filter((entry): entry is [string, PinnedNoise] => entry[1] !== 'off');
  if (pinned.length === 0) return profile;
  const paths: Record<string, NoisyPath> = { ...profile?.paths };
  for (const [path, noise] of pinned) paths[path] = { ...noise, pinned: true };
  return { id: profile ? `${profile.id}+routes.yaml` : `${routeId}@routes.yaml`, routeId, samples: profile?.samples ?? 0, paths };
}

/** The paths a route's compare rules name exactly (per-path comparators and ignore rules). */
export function rulePaths(rules: { ignore: readonly string[]; paths?: Readonly<Record<string, unknown>> }): Set<string> {
  return new Set([...rules.ignore, ...Object.keys(rules.paths ?? {})]);
}

function isObject(value: unknown): value is Record<string, JsonValue> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof JsonNumber);
}

function mostCommon<T>(counts: Map<T, number>): T | undefined {
  let best: T | undefined;
  let bestCount = -1;
  for (const [value, count] of counts) if (count > bestCount) [best, bestCount] = [value, count];
  return best;
}

/** |a − b| for numbers, milliseconds for timestamps; undefined when the two have no distance (strings, uuids). */
function distanceOf(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b);
  if (a instanceof JsonNumber && b instanceof JsonNumber) return Math.abs(Number(a.text) - Number(b.text));
  if (typeof a === 'string' && typeof b === 'string') {
    const x = parseTimestamp(a);
    const y = parseTimestamp(b);
    if (x && y) return Math.abs(x.epochMs - y.epochMs);
  }
  return undefined;
}
