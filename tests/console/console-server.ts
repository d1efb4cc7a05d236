/**
 * The admin server with its web console on a real PostgreSQL (an isolated database), as
 * `cutover proxy` assembles it: the PostgreSQL flag store, the LISTEN/NOTIFY live flag source,
 * the observation and rollout stores, the readiness gate as promotion guard. Ephemeral port.
 */
import { Counter, Registry } from 'prom-client';
import { createConsole } from '../../console/console-routes.js';
import { createAdminServer, type AdminServer } from '../../flags/admin-server.js';
import type { FlagStore } from '../../flags/flag-store.js';
import { createLiveFlagSource, type LiveFlagSource } from '../../flags/live-flag-source.js';
import { createPgFlagStore } from '../../flags/pg-flag-store.js';
import { loadRouteCatalogue, type RouteCatalogue } from '../../flags/route-catalogue.js';
import { gatePromotionGuard } from '../../gate/promotion-guard.js';
import { loadAcceptedDifferences } from '../../parity/compare/accepted-registry.js';
import { createStorageRedactor } from '../../parity/compare/redact.js';
import { PgNoiseStore } from '../../parity/runner/noise-store.js';
import type { Observation } from '../../proxy/observe/observation.js';
import { PgObservationStore } from '../../proxy/observe/pg-observation-store.js';
import { PgRolloutStore } from '../../rollout/pg-rollout-store.js';
import { loadConfig } from '../../src/config/load.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';

export const adminToken = 'admin-token-for-console-tests-0123456789';
export const anaToken = 'ana-token-for-console-tests-0123456789-abcdef';

export interface ConsoleServer {
  url: string;
  admin: AdminServer;
  catalogue: RouteCatalogue;
  flagStore: FlagStore;
  flagSource: LiveFlagSource;
  observations: PgObservationStore;
  rollouts: PgRolloutStore;
  noise: PgNoiseStore;
  /** The proxy's drop counter, as the admin server's registry carries it. */
  drops: Counter<'route' | 'reason'>;
  close(): Promise<void>;
}

export async function startConsoleServer(label: string): Promise<ConsoleServer> {
  const database: IsolatedDatabase = await createIsolatedDatabase(label, { migrated: true });
  const config = loadConfig({ overrides: { proxy: { admin: { host: '127.0.0.1', port: 0 }, adminToken, adminTokens: { ana: anaToken } } } });
  const catalogue = loadRouteCatalogue();
  const flagStore = createPgFlagStore({ url: database.url, catalogue });
  const flagSource = createLiveFlagSource({ url: database.url });
  await flagSource.ready();
  const observations = new PgObservationStore(database.url);
  const rollouts = new PgRolloutStore(database.url);
  const noise = new PgNoiseStore(database.url);
  const registry = new Registry();
  const drops = new Counter({ name: 'cutover_proxy_shadow_dropped_total', help: 'drops', labelNames: ['route', 'reason'] as const, registers: [registry] });
  const guard = gatePromotionGuard({ observations, catalogue, thresholds: config.gate.thresholds }, config.gate.windowHours);
  const admin = createAdminServer({
    config,
    flagStore,
    flagSource,
    metricsRegistry: registry,
    catalogue,
    promotionGuard: guard,
    console: createConsole({
      catalogue,
      flagStore,
      flagSource,
      observations,
      rollouts,
      noise,
      accepted: loadAcceptedDifferences(),
      thresholds: config.gate.thresholds,
      windowHours: config.gate.windowHours,
      redactor: createStorageRedactor(config.redaction.piiFields),
      metricsRegistry: registry,
      guard,
      rolloutDefaults: config.rollout,
    }),
  });
  const { url } = await admin.listen();
  return {
    url,
    admin,
    catalogue,
    flagStore,
    flagSource,
    observations,
    rollouts,
    noise,
    drops,
    async close() {
      await admin.close();
      await Promise.allSettled([flagSource.close(), flagStore.close(), observations.close(), rollouts.close(), noise.close()]);
      await database.drop();
    },
  };
}

/** A shadowed observation of a route, legacy serving; `mismatch` gives it one difference at `$.count`, with both bodies. */
export function shadowObservation(routeId: string, options: { mismatch?: boolean; at?: Date; legacyMs?: number; reimplMs?: number } = {}): Observation {
  const mismatch = options.mismatch ?? false;
  return {
    observedAt: options.at ?? new Date(),
    routeId,
    service: routeId.split('.')[0]!,
    method: 'GET',
    path: '/health',
    mode: 'shadow',
    serving: { side: 'legacy', status: 200, latencyMs: options.legacyMs ?? 12, error: null, body: mismatch ? '{"status":"ok","count":41}' : null },
    shadow: { side: 'reimpl', status: 200, latencyMs: options.reimplMs ?? 7, error: null, body: mismatch ? '{"status":"ok","count":42}' : null },
    verdict: mismatch ? 'mismatched' : 'matched',
    ignoredBy: [],
    erroredSide: null,
    differences: mismatch ? [{ path: '$.count', serving: '41', shadow: '42', kind: 'value', disposition: { as: 'mismatch' } }] : [],
  };
}

export interface EventStream {
  contentType: string | null;
  /** Resolves once the stream has carried `needle`; fails after `deadlineMs` (a pending read never hangs the test). */
  seen(needle: string, deadlineMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens the console's server-sent event stream with a session cookie. */
export async function openEventStream(adminUrl: string, cookie: string): Promise<EventStream> {
  const abort = new AbortController();
  const response = await fetch(`${adminUrl}/events`, { headers: { cookie }, signal: abort.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    contentType: response.headers.get('content-type'),
    async seen(needle, deadlineMs = 20_000) {
      const until = Date.now() + deadlineMs;
      while (!text.includes(needle)) {
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), Math.max(0, until - Date.now()))));
        const chunk = await Promise.race([reader.read(), expired]);
        clearTimeout(timer);
        if (chunk === null) throw new Error(`no event with ${needle} within ${deadlineMs} ms; the stream carried: ${text}`);
        if (chunk.done) throw new Error(`the event stream ended before ${needle}; it carried: ${text}`);
        text += decoder.decode(chunk.value, { stream: true });
      }
    },
    async close() {
      abort.abort();
      await reader.cancel().catch(() => undefined);
    },
  };
}
