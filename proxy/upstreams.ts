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

/**
 * Whose connections a request travels on. Shadow copies and eventual-state polls have pools of
 * their own, so a slow or hung shadow side can never hold a connection the serving answers
 * need, even where both reach the same origin (docs/decisions/0017-shadow-work-off-the-serving-path.md).
 */
export type PoolKind = Role | 'poll';

export interface Upstream {
  origin: string;
  endpoint: Endpoint;
  kind: PoolKind;
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

  private readonly connections: Readonly<Record<PoolKind, number>>;

  constructor(private readonly config: CutoverConfig) {
    const { proxy } = config;
    this.connections = { serving: proxy.connectionsPerUpstream, shadow: proxy.shadow.connectionsPerUpstream, poll: proxy.shadow.pollConnectionsPerUpstream };
  }

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
    return this.pool(endpoint, role);
  }

  /** The eventual-state polls' own pool to `upstream`'s origin: a poll re-reads a side without taking its serving or shadow connections. */
  forPoll(upstream: Upstream): Upstream {
    return this.pool(upstream.endpoint, 'poll');
  }

  private pool(endpoint: Endpoint, kind: PoolKind): Upstream {
    const origin = `http://${endpoint.host}:${endpoint.port}`;
    const key = `${kind} ${origin}`;
    let upstream = this.pools.get(key);
    if (!upstream) {
      const connections = this.connections[kind];
      upstream = {
        origin,
        endpoint,
        kind,
        pool: new Pool(origin, {
          connections,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          keepAliveMaxTimeout: 600_000,
          connectTimeout: 5_000,
        }),
        // Only serving answers ride the fast lane's sockets; this pool opens none until asked.
        sockets: new SocketPool({ host: endpoint.host, port: endpoint.port, max: connections, idleMs: socketIdleMs, connectTimeoutMs: 5_000 }),
      };
      this.pools.set(key, upstream);
    }
    return upstream;
  }

  async close(): Promise<void> {
    for (const upstream of this.pools.values()) upstream.sockets.close();
    await Promise.all([...this.pools.values()].map((upstream) => upstream.pool.destroy().catch(() => undefined)));
    this.pools.clear();
  }
}
