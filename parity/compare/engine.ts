/**
 * The comparison engine: one legacy answer and one reimplementation answer of the same
 * request, compared under the route's rules, each difference given a disposition — mismatch,
 * ignored (a route rule), noise (calibrated legacy-vs-legacy variation, kind kept), accepted
 * (an entry of parity/accepted-differences.yaml) or correlated (A on legacy ↔ B on the
 * reimplementation) — and a verdict. The proxy's live shadow comparison, replay, fuzz and
 * calibrate all use this one engine.
 *
 * Verdicts: `errored` when a side failed; `mismatched` when any difference is a mismatch;
 * `ignored` when route rules (ignore paths, uuid rules without a correlation, timestamps no
 * window could check, an uncompared large body) explain some difference — never counted as
 * matched; otherwise `matched`. A job timestamp that differs but keeps its side's window,
 * order and format is `within-window`: compared, and a match. Accepted differences do
 * not make a verdict of their own: a comparison whose only differences are accepted ones is
 * `matched`, and `accepted` lists their ids so reports show what each absorbed, apart.
 */
import { createHash } from 'node:crypto';
import { parseJsonText, type JsonValue } from './json-text.js';
import { findAccepted, type AcceptedDifference } from './accepted.js';
import { parsePathPattern, patternCovers, renderPath, type PathPattern, type PathStep } from './json-path.js';
import { CompiledPathRules, JsonDiff, type Found } from './json-diff.js';
import { compareMetricsTexts, NotMetricsText, parseMetricsText, type MetricsDifference } from './metrics.js';
import type { TimeWindow } from './timestamp.js';
import { defaultNoiseThresholds, judgeNoise, type NoiseProfile, type NoiseThresholds } from './noise.js';
import type { RouteCompareRules } from './rules.js';
import { compareTexts } from './text.js';
import { renderValue } from './values.js';

export type { AcceptedDifference } from './accepted.js';
export type { NoiseProfile, NoisyPath, NoiseThresholds } from './noise.js';
export type { PathRule, RouteCompareRules } from './rules.js';
export type { TimeWindow } from './timestamp.js';

/** One side's answer. `failure` set means the side did not answer (status is then meaningless). */
export interface Exchange {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer;
  /** True when `body` holds only the start of a longer answer: the body is then not compared. */
  truncated?: boolean;
  failure?: { code: string; message: string };
  /**
   * When this side's answer could have been written (its own clock readings: the request that
   * created the job, this request, the answer read whole): job timestamps are held to it.
   */
  window?: TimeWindow;
}

export type DifferenceKind =
  | 'value' | 'type' | 'missing' | 'extra' | 'number-rendering' | 'timestamp'
  | 'geometry' | 'array-order' | 'length' | 'status' | 'header' | 'bytes' | 'file' | 'text';

export interface Difference {
  /** `status`, `headers.<name>`, a JSON path into the body (`$` = the whole body), or `$!<file detail>` for exported files. */
  path: string;
  kind: DifferenceKind;
  /** Legacy's value as JSON text (numbers as written), bounded; absent when legacy has none. */
  legacy?: unknown;
  reimpl?: unknown;
  detail?: string;
}

export type Disposition =
  | { as: 'mismatch' }
  | { as: 'ignored'; rule: string }
  | { as: 'noise'; profile: string }
  | { as: 'accepted'; id: string }
  | { as: 'correlated'; pair: string }
  | { as: 'within-window' }
  /** Two sides caught at different points of one job's life, each answering what its own state prescribes (parity/runner/fuzz-races.ts). */
  | { as: 'raced'; rule: string; detail: string };

export type DisposedDifference = Difference & { disposition: Disposition };

export type Verdict = 'matched' | 'mismatched' | 'ignored' | 'errored';

export interface Comparison {
  verdict: Verdict;
  differences: DisposedDifference[];
  erroredSide?: 'legacy' | 'reimpl' | 'both';
  /** With `errored`: what each side that did not answer failed with, so a report can say why, not only who. */
  failures?: { legacy?: { code: string; message: string }; reimpl?: { code: string; message: string } };
  /** The rules that explained differences (for `ignored`, all of them; listed whatever the verdict). */
  ignoredBy: string[];
  /** Ids of accepted differences that absorbed something here. */
  accepted: string[];
}

export interface CompareContext {
  routeId: string;
  rules: RouteCompareRules;
  noise?: NoiseProfile;
  noiseThresholds?: NoiseThresholds;
  accepted?: readonly AcceptedDifference[];
  /** Correlated ids: legacy value → reimplementation value. */
  correlations?: ReadonlyMap<string, string>;
  /** At most this many body differences are kept (default 100). */
  maxDifferences?: number;
}

/** The rule that explains an observation whose body was too large to capture whole: not compared, and said so. */
export const bodyTooLargeRule = 'compare.max-body';

/** Compares two answers under the context's rules; exported files (a `$: { as: file }` rule) are opened with GDAL. */
export async function compareExchanges(legacy: Exchange, reimpl: Exchange, context: CompareContext): Promise<Comparison> {
  const fileRule = context.rules.paths?.['$'];
  // Only two files are opened as files: a refusal (`{"detail": "... not found"}`, ids correlated) is compared as what it is.
  const files = legacy.status >= 200 && legacy.status < 300 && reimpl.status >= 200 && reimpl.status < 300;
  if (fileRule?.as !== 'file' || !files || legacy.failure || reimpl.failure || legacy.truncated || reimpl.truncated || legacy.body.equals(reimpl.body)) {
    return compareExchangesSync(legacy, reimpl, context);
  }
  const { compareExportFiles } = await import('./file.js');
  const fileDifferences = await compareExportFiles(legacy, reimpl, fileRule);
  return compareExchangesSync(legacy, reimpl, context, fileDifferences);
}

/**
 * The synchronous engine for answers that need no I/O (JSON, text, bytes): what the proxy runs
 * per observation. A `$: { as: file }` rule is honoured only by compareExchanges; here such a
 * body is compared by bytes.
 */
export function compareExchangesSync(legacy: Exchange, reimpl: Exchange, context: CompareContext, bodyDifferences?: readonly Difference[]): Comparison {
  if (legacy.failure || reimpl.failure) {
    const erroredSide = legacy.failure && reimpl.failure ? 'both' : legacy.failure ? 'legacy' : 'reimpl';
    const failures = { ...(legacy.failure ? { legacy: legacy.failure } : {}), ...(reimpl.failure ? { reimpl: reimpl.failure } : {}) };
    return { verdict: 'errored', differences: [], erroredSide, failures, ignoredBy: [], accepted: [] };
  }
  const judge = new Disposer(context);
  if (legacy.status !== reimpl.status) {
    judge.add({ path: 'status', kind: 'status', legacy: String(legacy.status), reimpl: String(reimpl.status) }, undefined);
  }
  for (const name of context.rules.headers) {
    const a = legacy.headers[name];
    const b = reimpl.headers[name];
    if (a !== b) {
      judge.add({ path: `headers.${name}`, kind: 'header', ...(a === undefined ? {} : { legacy: JSON.stringify(a) }), ...(b === undefined ? {} : { reimpl: JSON.stringify(b) }) }, undefined);
    }
  }
  if (legacy.truncated || reimpl.truncated) {
    judge.add({ path: '$', kind: 'bytes', detail: 'a body was too large to capture whole; not compared' }, undefined, bodyTooLargeRule);
  } else if (bodyDifferences) {
    for (const difference of bodyDifferences) judge.add(difference, difference.path.startsWith('$') ? [] : undefined);
  } else {
    compareBodies(legacy, reimpl, context, judge);
  }
  return judge.result();
}

function tryJson(body: Buffer): { value: JsonValue } | undefined {
  if (body.length === 0) return undefined;
  try {
    return { value: parseJsonText(body.toString('utf8')) };
  } catch {
    return undefined;
  }
}

function describeBytes(body: Buffer): string {
  return JSON.stringify(`${body.length} bytes, sha256 ${createHash('sha256').update(body).digest('hex').slice(0, 16)}`);
}

const compiled = new WeakMap<object, CompiledPathRules>();
const noPathRules = new CompiledPathRules(undefined);

/**
 * A route's path rules compiled once (they are the catalogue's objects, the same on every
 * comparison of the route), not parsed again for every live comparison.
 */
function compiledRules(paths: CompareContext['rules']['paths']): CompiledPathRules {
  if (!paths) return noPathRules;
  let rules = compiled.get(paths);
  if (!rules) compiled.set(paths, (rules = new CompiledPathRules(paths)));
  return rules;
}

function compareBodies(legacy: Exchange, reimpl: Exchange, context: CompareContext, judge: Disposer): void {
  const { body: a } = legacy;
  const { body: b } = reimpl;
  if (context.rules.paths?.['$']?.as === 'metrics') return compareMetrics(a, b, judge);
  const equal = a.equals(b);
  // Equal bodies need no walk, unless their timestamps are held to windows the two sides do not share (replay: a golden and a live answer).
  if (equal && !(legacy.window || reimpl.window)) return;
  const rules = compiledRules(context.rules.paths);
  if (equal && !rules.relational) return;
  const left = tryJson(a);
  const right = left && tryJson(b);
  // Equal bodies that are not JSON have no timestamps to hold to a window: nothing differs.
  if (equal && !(left && right)) return;
  if (left && right) {
    const diff = new JsonDiff(rules, context.maxDifferences ?? 100, { legacy: legacy.window, reimpl: reimpl.window });
    diff.walk(left.value, right.value, []);
    for (const found of diff.found) judge.found(found);
    return;
  }
  const textRule = context.rules.paths?.['$'];
  if (textRule?.as === 'text') {
    const why = compareTexts(a.toString('utf8'), b.toString('utf8'), textRule);
    if (why) judge.add({ path: '$', kind: 'text', legacy: describeBytes(a), reimpl: describeBytes(b), detail: why }, []);
    return;
  }
  judge.add({ path: '$', kind: 'bytes', legacy: describeBytes(a), reimpl: describeBytes(b) }, []);
}

/** Two Prometheus expositions, family by family; a body that is not one is a mismatch at `$`. */
function compareMetrics(a: Buffer, b: Buffer, judge: Disposer): void {
  let differences: MetricsDifference[];
  try {
    differences = compareMetricsTexts(a.toString('utf8'), b.toString('utf8'));
  } catch (error) {
    if (!(error instanceof NotMetricsText)) throw error;
    let side = 'reimplementation';
    try {
      parseMetricsText(a.toString('utf8'));
    } catch {
      side = 'legacy';
    }
    judge.add({ path: '$', kind: 'text', legacy: describeBytes(a), reimpl: describeBytes(b), detail: `${side}: not a Prometheus text exposition (${error.message})` }, []);
    return;
  }
  for (const difference of differences) {
    judge.add(
      {
        path: renderPath(difference.steps),
        kind: difference.kind,
        ...(difference.legacy === undefined ? {} : { legacy: JSON.stringify(difference.legacy) }),
        ...(difference.reimpl === undefined ? {} : { reimpl: JSON.stringify(difference.reimpl) }),
        detail: difference.detail,
      },
      difference.steps,
    );
  }
}

/**
 * Whether a legacy string and a reimplementation string differ only by correlated ids: the id
 * itself (`job_id`) or a string holding it (a file location, a download URL). `expected` says
 * what the reimplementation should have answered when the legacy value is exactly a correlated id.
 */
function correlate(legacy: string, reimpl: string, correlations: ReadonlyMap<string, string>): { pair?: string; expected?: string } | undefined {
  const exact = correlations.get(legacy);
  if (exact !== undefined) return exact === reimpl ? { pair: `${legacy}↔${reimpl}` } : { expected: exact };
  let rewritten = legacy;
  const pairs: string[] = [];
  for (const [legacyId, reimplId] of correlations) {
    if (!rewritten.includes(legacyId)) continue;
    rewritten = rewritten.split(legacyId).join(reimplId);
    pairs.push(`${legacyId}↔${reimplId}`);
  }
  return pairs.length > 0 && rewritten === reimpl ? { pair: pairs.join(', ') } : undefined;
}

/** Gives each difference its disposition, in order: correlation, ignore rule, accepted, within-window, noise, uuid rule, mismatch. */
class Disposer {
  private readonly differences: DisposedDifference[] = [];
  private readonly ignorePatterns: Array<{ rule: string; pattern: PathPattern | undefined }>;

  constructor(private readonly context: CompareContext) {
    this.ignorePatterns = context.rules.ignore.map((rule) => ({ rule, pattern: parsePathPattern(rule) }));
  }

  found(found: Found): void {
    const path = renderPath(found.steps);
    const difference: Difference = {
      path,
      kind: found.kind,
      ...(found.legacy === undefined ? {} : { legacy: renderValue(found.legacy) }),
      ...(found.reimpl === undefined ? {} : { reimpl: renderValue(found.reimpl) }),
      ...(found.detail ? { detail: found.detail } : {}),
    };
    this.add(difference, found.steps, found.explainedBy, found.legacy, found.reimpl, found.withinWindow);
  }

  /** `steps` set for body differences (ignore rules apply), undefined for status and headers. */
  add(difference: Difference, steps: readonly PathStep[] | undefined, explainingRule?: string, legacy?: JsonValue, reimpl?: JsonValue, withinWindow?: boolean): void {
    // dispose() may add to the difference's detail (why a noisy or correlated value is still a mismatch): call it first.
    const disposition = this.dispose(difference, steps, explainingRule, legacy, reimpl, withinWindow);
    this.differences.push({ ...difference, disposition });
  }

  private dispose(difference: Difference, steps: readonly PathStep[] | undefined, explainingRule?: string, legacy?: JsonValue, reimpl?: JsonValue, withinWindow?: boolean): Disposition {
    const { context } = this;
    // A correlation is evidence the two values name the same job: it outranks an ignore rule on the same path.
    if (typeof legacy === 'string' && typeof reimpl === 'string' && context.correlations && context.correlations.size > 0) {
      const correlated = correlate(legacy, reimpl, context.correlations);
      if (correlated?.pair) return { as: 'correlated', pair: correlated.pair };
      if (correlated?.expected) {
        difference.detail = `legacy ${legacy} is correlated with ${correlated.expected}, not ${reimpl}`;
        return { as: 'mismatch' };
      }
    }
    if (steps) {
      const ignore = this.ignorePatterns.find(({ pattern }) => pattern && patternCovers(pattern, steps));
      if (ignore) return { as: 'ignored', rule: ignore.rule };
    }
    const accepted = findAccepted(context.accepted, {
      routeId: context.routeId,
      steps,
      path: difference.path,
      kind: difference.kind,
      ...(legacy === undefined ? {} : { legacy }),
      ...(reimpl === undefined ? {} : { reimpl }),
      ...(typeof difference.legacy === 'string' ? { legacyText: difference.legacy } : {}),
      ...(typeof difference.reimpl === 'string' ? { reimplText: difference.reimpl } : {}),
    });
    if (accepted) return { as: 'accepted', id: accepted.id };
    // Each side's own window, order and format are stronger evidence than how far apart two runs stamp: noise is not asked.
    if (withinWindow) return { as: 'within-window' };
    if (context.noise && steps) {
      const judgement = judgeNoise(context.noise, steps, difference.kind, legacy, reimpl, context.noiseThresholds ?? defaultNoiseThresholds);
      if (judgement?.noise) return { as: 'noise', profile: context.noise.id };
      if (judgement) {
        difference.detail = difference.detail ? `${difference.detail}; ${judgement.detail}` : judgement.detail;
        return { as: 'mismatch' };
      }
    }
    if (explainingRule) return { as: 'ignored', rule: explainingRule };
    return { as: 'mismatch' };
  }

  result(): Comparison {
    // Most live comparisons find nothing: no Sets and arrays made to say so (this runs for every shadowed request).
    if (this.differences.length === 0) return { verdict: 'matched', differences: this.differences, ignoredBy: [], accepted: [] };
    const ignoredBy = [...new Set(this.differences.flatMap((d) => (d.disposition.as === 'ignored' ? [d.disposition.rule] : [])))];
    const accepted = [...new Set(this.differences.flatMap((d) => (d.disposition.as === 'accepted' ? [d.disposition.id] : [])))];
    const verdict: Verdict = this.differences.some((d) => d.disposition.as === 'mismatch') ? 'mismatched' : ignoredBy.length > 0 ? 'ignored' : 'matched';
    return { verdict, differences: this.differences, ignoredBy, accepted };
  }
}
