/**
 * Fallback to legacy (the seed's `python_fallback_enabled`): when the reimplementation serves a
 * request (canary or reimpl mode) and fails it before its answer started — a connection error,
 * a timeout before headers or a 5xx status — the client gets legacy's answer instead. The
 * failure is still observed as the reimplementation's and counted. A request that writes
 * never falls back unless its route says it is idempotent, so a fallback never doubles a write.
 */
import type { Route } from '../../flags/route-catalogue.js';
import type { FlagMode } from '../../flags/flag.js';
import type { Decision } from './decide.js';
import type { FallbackReason } from './forward.js';

/** Whether a route's requests may fall back: `fallback:` in routes.yaml, on by default for routes that do not write; a writing route only when idempotent. */
export function routeFallsBack(route: Pick<Route, 'writes' | 'fallback' | 'idempotent'>): boolean {
  if (route.writes && route.idempotent !== true) return false;
  return route.fallback ?? !route.writes;
}

/** Whether this decision's serving side may fall back to legacy. */
export function fallsBack(route: Route | undefined, decision: Pick<Decision, 'mode' | 'serving'>): boolean {
  return route !== undefined && decision.serving === 'reimpl' && (decision.mode === 'canary' || decision.mode === 'reimpl') && routeFallsBack(route);
}

/** Whether a mode may have the reimplementation serve with a fallback (the fast lane hands such requests to node:http). */
export const modeMayFallBack = (mode: string) => mode === 'canary' || mode === 'reimpl';

/**
 * Why an observed request fell back, from what its observation keeps, by the rule forward.ts
 * applies when it happens: on a route that falls back, the reimplementation serving (canary,
 * reimpl) answered 5xx, or failed before its headers other than by the client's abort or a
 * malformed answer. The report counts fallbacks per route with it.
 */
export function observedFallback(
  route: Pick<Route, 'writes' | 'fallback' | 'idempotent'>,
  observation: { mode: FlagMode; serving: { side: string; status: number | null; error: string | null } },
): FallbackReason | undefined {
  const { serving } = observation;
  if (serving.side !== 'reimpl' || !modeMayFallBack(observation.mode) || !routeFallsBack(route)) return undefined;
  if (serving.error === null) return serving.status !== null && serving.status >= 500 ? '5xx' : undefined;
  // A failure after the headers (the observation keeps their status) reached the client as a cut answer.
  if (serving.status !== null || serving.error === 'CUTOVER_ERR_CLIENT_ABORTED' || serving.error === 'CUTOVER_ERR_UPSTREAM_MALFORMED') return undefined;
  return serving.error === 'CUTOVER_ERR_UPSTREAM_TIMEOUT' ? 'timeout' : 'connection';
}

const retriedMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** A route's retry policy in words, as the proxy applies it (proxy/transport/fast-lane.ts failOrRetry; shadow copies are sent once). */
export function retryPolicy(route: Pick<Route, 'method' | 'writes' | 'fallback' | 'idempotent'>): string {
  const resend = route.method === '*' || retriedMethods.has(route.method)
    ? 'a request without a body is sent once more on a new connection when a reused keep-alive connection closes before any answer byte'
    : 'never resent';
  return `${resend}; shadow copies never resent; ${routeFallsBack(route) ? 'falls back to legacy when the reimplementation fails it serving (canary, reimpl)' : route.writes ? 'no fallback (writes, not idempotent)' : 'no fallback (fallback: false)'}`;
}
