/**
 * What the routes share (legacy/terrafusion_gateway/context.py): settings, the RBAC store, the
 * upstreams and the metrics; and the per-request state Flask keeps in `g` and `session`.
 */
import type { FastifyRequest } from 'fastify';
import type { RequestSession } from './identity.js';
import type { GatewayMetrics } from './metrics.js';
import type { RbacStore } from './rbac-store.js';
import type { GatewaySettings } from './settings.js';
import type { Upstream } from './upstream.js';

export interface GatewayContext {
  settings: Readonly<GatewaySettings>;
  rbac: RbacStore;
  sync: Upstream;
  narrator: Upstream;
  metrics: GatewayMetrics;
  /** Identity context for the guards. */
  jwtSecretKey: string;
  secretKey: string;
}

/** The Flask url_rule of a route, carried in its fastify config: the metrics' `endpoint` label. */
export interface RouteRule {
  rule: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    flaskSession: RequestSession;
    startedAt: bigint;
    /** Set when a handler hands over to another rule (Flask would have matched that rule). */
    metricsRule?: string;
  }
  interface FastifyContextConfig {
    rule?: string;
  }
}

/** The request's raw body (every content type is kept as a Buffer), or undefined when empty. */
export function rawBody(request: FastifyRequest): Buffer | undefined {
  return Buffer.isBuffer(request.body) && request.body.length > 0 ? request.body : undefined;
}

/** The request's query as (name, value) pairs in order, every value of a repeated name kept. */
export function queryPairs(request: FastifyRequest): Array<[string, string]> {
  const q = request.url.indexOf('?');
  return q < 0 ? [] : [...new URLSearchParams(request.url.slice(q + 1))];
}
