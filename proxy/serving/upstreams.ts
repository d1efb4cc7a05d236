/**
 * Where each side of a service lives, and the keep-alive pools that reach it. A route may
 * name its own reimplementation upstream (`upstream: gisExport`); shadow copies of routes that
 * write go to the shadow instances (config.proxy.upstreams.shadowLegacy / shadowReimpl), whose
 * job tables live in a shadow schema (docs/decisions/0002-shadow-writes.md). Upstreams are URLs
 * (proxy/serving/upstream-address.ts), http or https; one the config gives nowhere is answered 502.
 */
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Dispatcher, Pool } from 'undici';
import { SocketPool, type PoolWaiter } from '../wire/socket-pool.js';
import type { CutoverConfig, UpstreamSide } from '../../src/config/schema.js';
import type { Route, RouteCatalogue, Service } from '../../flags/route-catalogue.js';
import type { Side } from './decide.js';
import { upstreamAddress, upstreamTls, upstreamVariable } from './upstream-address.js';

/** Serving or shadow copy: only shadow copies of writing routes are sent to the shadow instances. */
export type Role = 'serving' | 'shadow';

/**
 * Whose connections a request travels on. Shadow copies and eventual-state polls have pools of
 * their own, so a slow or hung shadow side can never hold a connection the serving answers
 * need, even where both reach the same origin (docs/decisions/0020-shadow-work-off-the-serving-path.md).
 */
export type PoolKind = Role | 'poll';

export interface Upstream {
  origin: string;
  /** The upstream's URL as the config gives it (`missing:...` for one it gives nowhere). */
  url: string;
  kind: PoolKind;
  pool: Dispatcher;
  /** Raw keep-alive connections: the fast lane's serving requests (fast-lane.ts), shadow copies and polls (shadow/shadow.ts); undici's pool serves node:http's path. */
  sockets: SocketPool;
}

/**
 * Idle fast-lane connections are closed before the upstreams would close them (uvicorn keeps
 * an idle connection 5 s), so a reused connection is rarely one the upstream is closing.
 */
const socketIdleMs = 4_000;

/** Fails every request at once, as an unreachable upstream would: the one the config gives no URL for. */
class MissingDispatcher extends Dispatcher {
  constructor(private readonly failure: () => Error) {
    super();
  }

  override dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    queueMicrotask(() => handler.onError?.(this.failure()));
    return true;
  }

  override close(): Promise<void> {
    return Promise.resolve();
  }

  override destroy(): Promise<void> {
    return Promise.resolve();
  }
}

class MissingSockets extends SocketPool {
  constructor(private readonly failure: () => Error) {
    super({ host: '', port: 0, max: 0, maxWaiters: 0, idleMs: 0, timeoutMs: 0, connectTimeoutMs: 0 });
  }

  override acquire(waiter: PoolWaiter): void {
    waiter.acquired(this.failure(), undefined);
  }
}

export class Upstreams {
  private readonly pools = new Map<string, Upstream>();
  /** What `for` resolved, by role, table and upstream name: the config does not change, and this runs per request. */
  private readonly resolved = new Map<string, Upstream>();
  private readonly own = new Map<string, string>();
  private readonly tls: ConnectionOptions;

  private readonly connections: Readonly<Record<PoolKind, number>>;

  /** `catalogue` names each service's own upstream (the first it declares); without it, the upstream named like the service. */
  constructor(
    private readonly config: CutoverConfig,
    catalogue?: RouteCatalogue,
  ) {
    const { proxy } = config;
    this.connections = { serving: proxy.connectionsPerUpstream, shadow: proxy.shadow.connectionsPerUpstream, poll: proxy.shadow.pollConnectionsPerUpstream };
    for (const service of catalogue?.services ?? []) this.own.set(service.name, service.upstreams[0]!);
    this.tls = upstreamTls(config);
  }

  /**
   * The upstream a request of `route` (or an unknown one) goes to on `side` in `role`.
   * `correlated`: the shadow copy names a job the shadow side wrote, so it must reach the shadow instance that holds it.
   */
  for(service: Service, route: Route | undefined, side: Side, role: Role, correlated = false): Upstream {
    const isolated = role === 'shadow' && (route?.writes === true || correlated);
    const table: UpstreamSide = side === 'legacy' ? (isolated ? 'shadowLegacy' : 'legacy') : isolated ? 'shadowReimpl' : 'reimpl';
    // Only the reimplementation has per-route upstreams (the GIS export service); legacy is one app per service.
    const name = (side === 'reimpl' && route?.upstream) || this.own.get(service) || service;
    const key = `${role} ${table} ${name}`;
    let upstream = this.resolved.get(key);
    if (!upstream) {
      const address = upstreamAddress(this.config, table, name);
      upstream = address.url ? this.pool(address.url, role) : this.missing(table, name, role);
      this.resolved.set(key, upstream);
    }
    return upstream;
  }

  /** The eventual-state polls' own pool to `upstream`'s origin: a poll re-reads a side without taking its serving or shadow connections. */
  forPoll(upstream: Upstream): Upstream {
    return upstream.url.startsWith('missing:') ? upstream : this.pool(upstream.url, 'poll');
  }

  private pool(url: string, kind: PoolKind): Upstream {
    const key = `${kind} ${url}`;
    let upstream = this.pools.get(key);
    if (!upstream) {
      const connections = this.connections[kind];
      const parsed = new URL(url);
      const secure = parsed.protocol === 'https:';
      const port = Number(parsed.port || (secure ? 443 : 80));
      // A URL's path is not part of the origin: the proxy forwards the client's path as it came.
      const origin = `${parsed.protocol}//${parsed.host}`;
      // SNI carries host names only (RFC 6066); an IP address is checked against the certificate without it.
      const tls = secure ? { ...this.tls, ...(isIP(parsed.hostname) ? {} : { servername: parsed.hostname }) } : undefined;
      upstream = {
        origin,
        url,
        kind,
        pool: new Pool(origin, {
          connections,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          keepAliveMaxTimeout: 600_000,
          connectTimeout: 5_000,
          ...(tls ? { connect: tls } : {}),
        }),
        // Neither pool opens a connection until asked: a shadow or poll upstream uses only its sockets.
        sockets: new SocketPool({
          host: parsed.hostname,
          port,
          max: connections,
          maxWaiters: this.config.proxy.maxWaitersPerUpstream,
          idleMs: socketIdleMs,
          timeoutMs: this.config.proxy.upstreamTimeoutMs,
          connectTimeoutMs: 5_000,
          ...(tls ? { tls } : {}),
          // Serving requests dial each time (each client is owed its own attempt); copies and polls to a side that refuses do not.
          ...(kind === 'serving' ? {} : { connectBreaker: this.config.proxy.shadow.connectBreaker }),
        }),
      };
      this.pools.set(key, upstream);
    }
    return upstream;
  }

  private missing(side: UpstreamSide, name: string, kind: PoolKind): Upstream {
    const key = `missing:${kind}:${side}:${name}`;
    let upstream = this.pools.get(key);
    if (!upstream) {
      const failure = () =>
        Object.assign(new Error(`no URL is configured for the ${side} upstream ${name} (set ${upstreamVariable(side, name)} or proxy.upstreams.${side}.${name})`), {
          code: 'CUTOVER_ERR_UPSTREAM_UNREACHABLE',
        });
      upstream = { origin: `missing://${side}/${name}`, url: key, kind, pool: new MissingDispatcher(failure), sockets: new MissingSockets(failure) };
      this.pools.set(key, upstream);
    }
    return upstream;
  }

  async close(): Promise<void> {
    for (const upstream of this.pools.values()) upstream.sockets.close();
    await Promise.all([...this.pools.values()].map((upstream) => upstream.pool.destroy().catch(() => undefined)));
    this.pools.clear();
    this.resolved.clear();
  }
}
