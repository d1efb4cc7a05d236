/**
 * Fallback to legacy (the seed's `python_fallback_enabled`): when the reimplementation serves a
 * request (canary or reimpl mode) and fails it before its answer started — a connection error,
 * a timeout before headers or a 5xx status — the client gets legacy's answer instead. The
 * failure is still observed as the reimplementation's and counted. A request that writes
 * never falls back unless its route says it is idempotent, so a fallback never doubles a write.
 */
import type { Route } from '../../flags/route-catalogue.js';
import type { Decision } from './decide.js';

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
