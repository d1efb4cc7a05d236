/**
 * Shadow sampling: of a route with `sample: s` in flags/routes.yaml, a request gets a shadow copy
 * when its id (x-request-id, as a load balancer sets it; a fresh id otherwise) hashes under s.
 * Deterministic per request and the same on every proxy instance, so a retried request meets the
 * same decision; salted by the route so one id does not fall the same way on every route.
 */
import type { Route } from '../../flags/route-catalogue.js';
import { canaryBucket } from './canary.js';

/** True when this request of the route is shadowed; always for a route without `sample`. */
export function sampledIn(route: Pick<Route, 'id' | 'sample'>, requestId: string): boolean {
  if (route.sample === undefined || route.sample >= 1) return true;
  // Buckets of 1/10,000: a share under one bucket still keeps one.
  return canaryBucket(`${route.id}\u0000${requestId}`) < Math.max(1, Math.round(route.sample * 10_000));
}
