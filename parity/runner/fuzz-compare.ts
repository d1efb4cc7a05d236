/**
 * Compares what one request did on legacy and on the reimplementation with the engine
 * (parity/compare/engine.ts): the immediate answer under the route's rules, and for a job
 * route also the terminal status and the results under the status and results routes' rules,
 * the two sides' job ids correlated. The worst verdict of the parts is the request's verdict.
 */
import type { Route, RouteCatalogue } from '../../flags/route-catalogue.js';
import { compareExchanges, type Comparison, type NoiseProfile, type Verdict } from '../compare/engine.js';
import type { AcceptedDifference } from '../compare/accepted.js';
import type { SideExchanges } from './fuzz-exchange.js';
import { settleRaces } from './fuzz-races.js';

export interface PartComparison {
  /** `answer`, `terminal` (the job's final status), `results`, or `row` (the job's row in its table). */
  part: 'answer' | 'terminal' | 'results' | 'row';
  routeId: string;
  comparison: Comparison;
}

export interface RequestComparison {
  verdict: Verdict;
  parts: PartComparison[];
}

/** Noise and accepted differences to apply, per route id. */
export interface CompareSources {
  noise?: (routeId: string) => NoiseProfile | undefined;
  accepted?: (routeId: string) => readonly AcceptedDifference[] | undefined;
}

const severity: Record<Verdict, number> = { matched: 0, ignored: 1, mismatched: 2, errored: 3 };

export async function compareSides(
  route: Route,
  catalogue: RouteCatalogue,
  legacy: SideExchanges,
  reimpl: SideExchanges,
  sources: CompareSources = {},
): Promise<RequestComparison> {
  // The ids each side's setup and request created, in order, name the same records: paired as
  // the proxy's correlation pairs them, so a create is compared (its id correlated), not ignored.
  const correlations = new Map<string, string>();
  legacy.createdIds.forEach((id, index) => {
    const other = reimpl.createdIds[index];
    if (other !== undefined && other !== id) correlations.set(id, other);
  });
  const sibling = (suffix: string) => catalogue.byId(route.id.replace(/\.(run|cancel)$/, `.${suffix}`)) ?? route;
  const pairs: Array<[PartComparison['part'], Route, SideExchanges['answer'] | undefined, SideExchanges['answer'] | undefined]> = [
    ['answer', route, legacy.answer, reimpl.answer],
  ];
  if (legacy.terminal || reimpl.terminal) pairs.push(['terminal', sibling('status'), legacy.terminal, reimpl.terminal]);
  if (legacy.results || reimpl.results) pairs.push(['results', sibling('results'), legacy.results, reimpl.results]);
  if (legacy.row || reimpl.row) pairs.push(['row', sibling('status'), legacy.row, reimpl.row]);
  let parts: PartComparison[] = [];
  for (const [part, partRoute, a, b] of pairs) {
    // One side made a job and the other did not: the answers already differ, nothing more to compare.
    if (!a || !b) continue;
    const noise = sources.noise?.(partRoute.id);
    const accepted = sources.accepted?.(partRoute.id);
    const comparison = await compareExchanges(a, b, {
      routeId: partRoute.id,
      rules: partRoute.compare,
      correlations,
      ...(noise ? { noise } : {}),
      ...(accepted ? { accepted } : {}),
    });
    parts.push({ part, routeId: partRoute.id, comparison });
  }
  parts = settleRaces(route, parts, legacy, reimpl);
  const verdict = parts.reduce<Verdict>((worst, part) => (severity[part.comparison.verdict] > severity[worst] ? part.comparison.verdict : worst), 'matched');
  return { verdict, parts };
}

/** What the sides that did not answer failed with: `(legacy CUTOVER_ERR_…: message)`; empty when the comparison has none on record. */
function describeFailures(comparison: Comparison): string {
  const failures = Object.entries(comparison.failures ?? {}).map(([side, failure]) => `${side} ${failure.code}: ${failure.message}`);
  return failures.length > 0 ? ` (${failures.join('; ')})` : '';
}

/** The differences that make a request mismatched, as `part path (kind): legacy … / reimpl … — why`, and the parts a side failed. */
export function mismatchLines(result: RequestComparison): string[] {
  return result.parts.flatMap((part) => [
    ...(part.comparison.verdict === 'errored' ? [`${part.part} errored: ${part.comparison.erroredSide} did not answer${describeFailures(part.comparison)}`] : []),
    ...part.comparison.differences
      .filter((difference) => difference.disposition.as === 'mismatch')
      .map((difference) => `${part.part} ${difference.path} (${difference.kind}): legacy ${String(difference.legacy)} / reimpl ${String(difference.reimpl)}${difference.detail ? ` — ${difference.detail}` : ''}`),
  ]);
}
