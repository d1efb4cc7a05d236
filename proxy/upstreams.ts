/**
 * Where each side of a service lives, and the keep-alive pools that reach it. A route may
 * name its own reimplementation upstream (`upstream: gisExport`); shadow copies of routes that
 * write go to the shadow instances (config.shadowLegacy / shadowReimpl), whose job tables live
 * in a shadow schema (docs/decisions/0002-shadow-writes.md).
 */
import { Pool } from 'undici';
import { SocketPool } from './socket-pool.js';
import type { CutoverConfig, Endpoint } from '../src/config/schema.js';
import type { Route, Service } from '../flags/route-catalogue.js';
import type { Side } from './decide.js';

/** Serving or shadow copy: only shadow copies of writing routes are sent to the shadow instances. */
export type Role = 'serving' | 'shadow';

export interface Upstream {
  origin: string;
  pool: Pool;
  /** Raw keep-alive connections for the fast lane (fast-lane.ts), beside undici's pool for everything else. */
  sockets: SocketPool;
}

/**
 * Idle fast-lane connections are closed before the upstreams would close them (uvicorn keeps
 * an idle connection 5 s), so a reused connection is rarely one the upstream is closing.
 */
const socketIdleMs = 4_000;

type EndpointTable = Readonly<Record<string, Endpoint>>;

export class Upstreams {
  private readonly pools = new Map<string, Upstream>();

  constructor(
    private readonly config: CutoverConfig,
    private readonly connections: number = config.proxy.connectionsPerUpstream,
  ) {}

  /**
   * The upstream a request of `route` (or an unknown one) goes to on `side` in `role`.
   * `correlated`: the shadow copy names a job the shadow side wrote, so it must reach the shadow instance that holds it.
   */
  for(service: Service, route: Route | undefined, side: Side, role: Role, correlated = false): Upstream {
    const isolated = role === 'shadow' && (route?.writes === true || correlated);
    const table: EndpointTable =
      side === 'legacy'
        ? isolated ? this.config.shadowLegacy : this.config.legacy
        : isolated ? this.config.shadowReimpl : this.config.reimpl;
    // Only the reimplementation has per-route upstreams (the GIS export service); legacy is one app per service.
    const named = side === 'reimpl' && route?.upstream ? table[route.upstream] : undefined;
    const endpoint = named ?? table[service];
    if (!endpoint) throw new Error(`no ${side} upstream configured for service ${service}`);
    return this.pool(endpoint);
  }

  private pool(endpoint: Endpoint): Upstream {
    const origin = `http://${endpoint.host}:${endpoint.port}`;
    let upstream = this.pools.get(origin);
    if (!upstream) {
      upstream = {
        origin,
        pool: new Pool(origin, {
          connections: this.connections,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          keepAliveMaxTimeout: 600_000,
          connectTimeout: 5_000,
        }),
        sockets: new SocketPool({ host: endpoint.host, port: endpoint.port, max: this.connections, idleMs: socketIdleMs, connectTimeoutMs: 5_000 }),
      };
      this.pools.set(origin, upstream);
    }
    return upstream;
  }

  async close(): Promise<void> {
    for (const upstream of this.pools.values()) upstream.sockets.close();
    await Promise.all([...this.pools.values()].map((upstream) => upstream.pool.destroy().catch(() => undefined)));
    this.pools.clear();
  }
}
