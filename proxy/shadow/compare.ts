/**
 * Where the proxy compares two answers (off the request path): a thin adapter over the one
 * comparison engine (parity/compare/engine.ts), so live shadow observations, replay and fuzz
 * judge answers alike. The proxy speaks of serving and shadow sides; the engine of legacy and
 * reimplementation: this file maps one onto the other. Differences keep their path, both
 * values (JSON text, numbers as written), their kind and their disposition; differences a
 * route's rules explain make the verdict `ignored` with those rules, never `matched`.
 */
import type { SideResult } from '../serving/capture.js';
import { bodyTooLargeRule, compareExchanges, compareExchangesSync, type Comparison as EngineComparison, type CompareContext, type DifferenceKind, type Disposition, type Exchange } from '../../parity/compare/engine.js';
import type { RouteCompareRules } from '../../parity/compare/rules.js';
import type { TimeWindow } from '../../parity/compare/timestamp.js';

export { bodyTooLargeRule };

export type Verdict = 'matched' | 'mismatched' | 'ignored' | 'errored';

export interface Difference {
  /** `status`, `headers.<name>`, or a JSON path into the body (`$` for the whole body). */
  path: string;
  /** The serving side's value rendered as JSON text (absent when the serving side has none). */
  serving?: string;
  shadow?: string;
  /** The ignore rule that explains this difference, when one does. */
  ignoredBy?: string;
  /** The correlated id pair (`legacy↔reimpl`, proxy/stateful/correlation.ts) that makes both values the same job: compares as equal. */
  correlated?: string;
  /** What differs (parity/compare/engine.ts DifferenceKind); absent in observations recorded before the engine. */
  kind?: DifferenceKind;
  /** What the difference means: mismatch, ignored, noise, accepted or correlated. */
  disposition?: Disposition;
  detail?: string;
}

export interface Comparison {
  verdict: Verdict;
  /** Rules that explained the differences of an `ignored` verdict. */
  ignoredBy: string[];
  /** Which side failed, for an `errored` verdict. */
  erroredSide: 'serving' | 'shadow' | 'both' | undefined;
  /** Differences found (those that were ignored carry `ignoredBy`); bounded by `maxDifferences`. */
  differences: Difference[];
  /** Ids of accepted differences (parity/accepted-differences.yaml) that absorbed something. */
  accepted?: string[];
}

/** A route's compare rules (flags/routes.yaml): ignore paths, compared headers, per-path comparators. */
export type CompareRules = RouteCompareRules;

/**
 * What else the engine may be told: the route (for accepted differences), calibrated noise, the
 * registry, and the exchange's window as the proxy saw it (both sides were asked and answered
 * inside it: job timestamps are held to it).
 */
export type CompareExtras = Partial<Pick<CompareContext, 'routeId' | 'noise' | 'accepted' | 'noiseThresholds'>> & { window?: TimeWindow };

// Built field by field rather than with conditional spreads: this runs twice per shadowed request, and each spread made an object to copy from.
const toExchange = (side: SideResult, window: TimeWindow | undefined): Exchange => {
  const exchange: Exchange = { status: side.status ?? 0, headers: side.headers, body: side.body, truncated: side.truncated };
  if (side.failure) exchange.failure = side.failure;
  if (window) exchange.window = window;
  return exchange;
};

/**
 * What a comparison is given: both answers, the route's rules, at most how many differences
 * are kept (100), serving id → shadow id pairs (values differing only by a correlated id
 * compare as equal), and what else the engine is told.
 */
type CompareArguments = [serving: SideResult, shadow: SideResult, rules: CompareRules, maxDifferences?: number, correlations?: ReadonlyMap<string, string>, extras?: CompareExtras];

/** The engine's view of a proxy comparison: which side is legacy, and the context it is judged in. */
function toEngine(...[serving, shadow, rules, maxDifferences = 100, correlations, extras = {}]: CompareArguments) {
  // A side result says which system answered; without a shadow side (tests), serving is legacy.
  const servingIsLegacy = serving.side !== 'reimpl';
  const [legacy, reimpl] = servingIsLegacy ? [serving, shadow] : [shadow, serving];
  const legacyToReimpl = correlations && !servingIsLegacy ? new Map([...correlations].map(([s, h]) => [h, s])) : correlations;
  const context: CompareContext = { routeId: extras.routeId ?? '', rules, maxDifferences };
  if (legacyToReimpl) context.correlations = legacyToReimpl;
  if (extras.noise) context.noise = extras.noise;
  if (extras.noiseThresholds) context.noiseThresholds = extras.noiseThresholds;
  if (extras.accepted) context.accepted = extras.accepted;
  return { servingIsLegacy, legacy: toExchange(legacy, extras.window), reimpl: toExchange(reimpl, extras.window), context };
}

/**
 * Compares the shadow side's answer with the serving side's under a route's rules, synchronously:
 * a `$: { as: file }` body is compared by bytes here (compareAnswersAsync opens it with GDAL).
 */
export function compareAnswers(...args: CompareArguments): Comparison {
  const { servingIsLegacy, legacy, reimpl, context } = toEngine(...args);
  return fromEngine(compareExchangesSync(legacy, reimpl, context), servingIsLegacy);
}

/** compareAnswers on the engine's async path: exported files (`$: { as: file }`) are opened with GDAL and compared by content. */
export async function compareAnswersAsync(...args: CompareArguments): Promise<Comparison> {
  const { servingIsLegacy, legacy, reimpl, context } = toEngine(...args);
  return fromEngine(await compareExchanges(legacy, reimpl, context), servingIsLegacy);
}

/** The engine's comparison in the proxy's serving/shadow terms. */
function fromEngine(result: EngineComparison, servingIsLegacy: boolean): Comparison {
  const erroredSide = result.erroredSide === undefined || result.erroredSide === 'both' ? result.erroredSide : (result.erroredSide === 'legacy') === servingIsLegacy ? 'serving' : 'shadow';
  // The truncated-body marker is a rule, not a difference someone could read values from.
  const differences: Difference[] = result.differences.length === 0 ? [] : result.differences
    .filter((difference) => !(difference.disposition.as === 'ignored' && difference.disposition.rule === bodyTooLargeRule))
    .map((difference): Difference => {
      const servingValue = (servingIsLegacy ? difference.legacy : difference.reimpl) as string | undefined;
      const shadowValue = (servingIsLegacy ? difference.reimpl : difference.legacy) as string | undefined;
      const { disposition } = difference;
      return {
        path: difference.path,
        ...(servingValue === undefined ? {} : { serving: servingValue }),
        ...(shadowValue === undefined ? {} : { shadow: shadowValue }),
        ...(disposition.as === 'ignored' ? { ignoredBy: disposition.rule } : {}),
        ...(disposition.as === 'correlated' ? { correlated: disposition.pair } : {}),
        kind: difference.kind,
        disposition,
        ...(difference.detail ? { detail: difference.detail } : {}),
      };
    });
  return {
    verdict: result.verdict,
    ignoredBy: result.verdict === 'ignored' ? result.ignoredBy : [],
    erroredSide,
    differences,
    ...(result.accepted.length > 0 ? { accepted: result.accepted } : {}),
  };
}
