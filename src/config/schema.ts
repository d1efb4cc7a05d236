/**
 * The one configuration of the harness: every option, its default and its meaning in one
 * place. Parsed once at start (defaults <- config file <- environment), validated, frozen.
 */
import { z } from 'zod';
import { exportWorkerDefaults } from './export-worker-defaults.js';
import { developmentSecrets } from './secrets.js';

const port = z.number().int().min(0).max(65535);
const host = z.string().min(1);

const endpoint = (defaultPort: number) =>
  z.object({ host: host.default('127.0.0.1'), port: port.default(defaultPort) }).prefault({});

/**
 * The readiness gate's thresholds (`cutover gate`, gate/): defaults here, overridden per route by
 * `gate:` in flags/routes.yaml, then by the command line. The evidence default is the fewest
 * compared observations with which zero mismatches give a 95% Wilson lower bound of 99.9%.
 */
export const gateThresholdsSchema = z.object({
  /** Two-sided confidence of every bound, and 1 − the significance of every one-sided test. */
  confidence: z.number().gt(0.5).lt(1).default(0.95),
  /** Compared observations (matched + mismatched, state parity included) needed in the window. */
  minCompared: z.number().int().nonnegative().default(3838),
  /** Most ignored observations may be of all: ignored is evidence missing, never parity. */
  maxIgnoredShare: z.number().min(0).max(1).default(0.01),
  /** Least the Wilson lower bound of matched / compared may be. */
  minParity: z.number().min(0).max(1).default(0.999),
  /** Most the Wilson upper bound of the reimplementation's error rate (5xx, timeouts, connection failures) may be. */
  maxErrorRate: z.number().min(0).max(1).default(0.01),
  /** Most the reimplementation's p99 latency may be, as a multiple of legacy's. */
  maxP99Ratio: z.number().positive().default(1),
  /** Latency samples each side needs before the latency criterion judges. */
  minLatencySamples: z.number().int().positive().default(100),
  /** The seed's target, shown as met or not (advisory): the reimplementation's median at most this share of legacy's (0.7 = 30% faster). */
  targetMedianRatio: z.number().positive().default(0.7),
  /** Whether the resources criterion (CPU and RSS per request) gates; advisory by default. */
  resourcesGating: z.boolean().default(false),
});

export type GateThresholds = z.infer<typeof gateThresholdsSchema>;

/** The same thresholds, each optional and without its default: a route's `gate:` and the command line override only what they name. */
export const gateOverridesSchema = z.strictObject(
  Object.fromEntries(Object.entries(gateThresholdsSchema.shape).map(([name, field]) => [name, field.unwrap().optional()])) as {
    [K in keyof typeof gateThresholdsSchema.shape]: z.ZodOptional<ReturnType<(typeof gateThresholdsSchema.shape)[K]['unwrap']>>;
  },
);

export type GateOverrides = z.infer<typeof gateOverridesSchema>;

/** The PII fields redacted when the config names none (see redaction.piiFields). */
export const defaultPiiFields: readonly string[] = ['full_name', 'owner_name', 'owner_address', 'mailing_address', 'email', 'phone', 'phone_number', 'ssn', 'tax_id', 'date_of_birth'];

/** A front door's address; unset parts come from the service's declaration in flags/routes.yaml (host 127.0.0.1, its `door` port). */
const door = z.object({ host: host.optional(), port: port.optional() });

/** The sides an upstream URL is given for, with the SIDE part of their CUTOVER_UPSTREAM_<SIDE>_<NAME> variables. */
export const upstreamSides = { legacy: 'LEGACY', reimpl: 'REIMPL', shadowLegacy: 'SHADOW_LEGACY', shadowReimpl: 'SHADOW_REIMPL' } as const;
export type UpstreamSide = keyof typeof upstreamSides;

/** The NAME part of an upstream's variable: upper-cased, words of a camelCase name split, `_` for any other character (gisExport, gis-export: GIS_EXPORT). */
export function upstreamEnvName(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

const upstreamUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//i.test(value), 'an http:// or https:// URL');

// Keyed by upstreamEnvName, so `gisExport` in a file and CUTOVER_UPSTREAM_REIMPL_GIS_EXPORT name the same upstream (the later layer wins).
const upstreamTable = z
  .record(z.string().min(1), upstreamUrl)
  .default({})
  .transform((table) => Object.fromEntries(Object.entries(table).map(([name, url]) => [upstreamEnvName(name), url.replace(/\/+$/, '')])));

export const configSchema = z.object({
  /** Folder for everything the harness writes at run time (embedded PG data, exports, logs). */
  stateDir: z.string().default('.cutover'),
  database: z
    .object({
      /** A real PostgreSQL to use. When absent, an embedded PostgreSQL is started. */
      url: z.string().url().optional(),
      /** Port of the embedded PostgreSQL; away from 5432 so it never clashes with a system one. */
      embeddedPort: port.default(54329),
      /** Database name used on the embedded server (and by `cutover up`). */
      name: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('terrafusion'),
    })
    .prefault({}),
  /** The route catalogue (services and routes) the proxy, the flags and the report use; flags/routes.yaml when absent. */
  routesFile: z.string().min(1).optional(),
  /** Debian's interpreter: it has python3-fastapi & co; another python3 may be first on PATH. */
  python: z.string().default('/usr/bin/python3'),
  legacy: z
    .object({
      gateway: endpoint(5000),
      sync: endpoint(8080),
      narrator: endpoint(7100),
    })
    .prefault({}),
  reimpl: z
    .object({
      gateway: endpoint(5100),
      sync: endpoint(8180),
      gisExport: endpoint(8190),
      narrator: endpoint(7200),
      /**
       * V8 heap ceiling of the processes that write GIS exports (reimpl sync with the export
       * mounted, reimpl gis-export): V8 lets its young generation (16 MiB semi-spaces) and old
       * generation grow with an export's batches well past what they hold, which put the
       * export's peak RSS above legacy's (decision 0031). 0 leaves V8's default.
       */
      exportHeap: z
        .object({
          /** --max-semi-space-size, MiB. */
          maxSemiSpaceMb: z.number().int().min(0).default(1),
          /** --max-old-space-size, MiB. */
          maxOldSpaceMb: z.number().int().min(0).default(96),
          /**
           * glibc's MALLOC_ARENA_MAX in those processes: each thread (the Shapefile's deflate
           * worker, libuv's pool) otherwise gets a malloc arena that keeps what it freed, and the
           * service's RSS crept up job after job (decision 0036: 7 exports at 200k in one process,
           * peak 115 -> 108 MiB with 2, no time lost). 0 leaves glibc's default.
           */
          mallocArenaMax: z.number().int().min(0).default(2),
        })
        .prefault({}),
      /**
       * The GIS export's worker processes (reimpl/gis-export/export-worker.ts: GDAL loaded, for
       * the jobs the TypeScript writers cannot write and the features across an area's edge),
       * kept between jobs rather than forked per job (decision 0039). Passed to the export
       * processes as GIS_EXPORT_WORKER_IDLE_MS and GIS_EXPORT_WORKER_RSS_CEILING_MB.
       */
      exportWorkers: z
        .object({
          /**
           * A worker without a job for this long exits, giving its memory back; 0 keeps it until
           * the service stops. 1.5 s keeps it through a run of jobs: one kept idle is ~110 MiB
           * (GDAL) in the service's process group, which put every later job's peak RSS at
           * 192-205 MiB against legacy's 117-124 (decision 0039).
           */
          idleLifetimeMs: z.number().int().min(0).default(exportWorkerDefaults.idleLifetimeMs),
          /**
           * After a job, a worker whose RSS is above this (MiB) is replaced by a fresh one, forked
           * while the slot is idle; 0 never replaces. Above the 185-208 MiB a worker reaches after
           * one GDAL export of 20k or 200k parcels, so only growth past that forks again.
           */
          rssCeilingMb: z.number().int().min(0).default(exportWorkerDefaults.rssCeilingMb),
        })
        .prefault({}),
    })
    .prefault({}),
  /**
   * Shadow instances: a second copy of each implementation whose DB_SCHEMA is `shadow_legacy,public`
   * or `shadow_reimpl,public`. Shadow copies of routes that write go here, so they never touch
   * the serving tables (docs/decisions/0002-shadow-writes.md).
   */
  shadowLegacy: z
    .object({
      gateway: endpoint(5001),
      sync: endpoint(8081),
      narrator: endpoint(7101),
    })
    .prefault({}),
  shadowReimpl: z
    .object({
      gateway: endpoint(5101),
      sync: endpoint(8181),
      gisExport: endpoint(8191),
      narrator: endpoint(7201),
    })
    .prefault({}),
  proxy: z
    .object({
      /** The gateway, sync and narrator front doors (PROXY_*_PORT); the same as proxy.doors.<name>, which wins. */
      gateway: door.optional(),
      sync: door.optional(),
      narrator: door.optional(),
      /** Front door of any service declared in flags/routes.yaml, by name; default host 127.0.0.1 and the service's `door` port; 0 = ephemeral. */
      doors: z.record(z.string(), door).default({}),
      /**
       * Where each upstream lives, per side, as a URL (http, or https with upstreamTls), by the
       * upstream names flags/routes.yaml declares: `{ legacy: { sync: 'http://10.0.0.5:8080' } }`.
       * Also CUTOVER_UPSTREAM_<SIDE>_<NAME> (SIDE: LEGACY, REIMPL, SHADOW_LEGACY, SHADOW_REIMPL).
       * An upstream given nowhere is the harness's own service of that name (legacy.sync...,
       * where `cutover up` starts it); with none of that either it is missing: named at start,
       * answered 502.
       */
      upstreams: z
        .object({ legacy: upstreamTable, reimpl: upstreamTable, shadowLegacy: upstreamTable, shadowReimpl: upstreamTable })
        .prefault({}),
      /** TLS of https upstreams: a CA bundle (PEM) to trust, and a client certificate and key (PEM) when the upstreams ask for one. */
      upstreamTls: z
        .object({ caFile: z.string().min(1).optional(), certFile: z.string().min(1).optional(), keyFile: z.string().min(1).optional() })
        .refine((tls) => (tls.certFile === undefined) === (tls.keyFile === undefined), 'certFile and keyFile go together')
        .prefault({}),
      admin: endpoint(8009),
      /** On SIGTERM: how long in-flight requests and shadow copies have to finish before they are cut, then observations are flushed. */
      drainTimeoutMs: z.number().int().positive().default(10_000),
      /** `json`: one JSON object per line and event (start, upstream checks, flag source, each served request with its id, drain, stop); `text`: lines for a terminal, without the requests. */
      logFormat: z.enum(['text', 'json']).default('text'),
      /**
       * Bearer tokens of the admin API by name; the name is the actor the audit log records for
       * the token's changes (`{"ana": "<token>"}`, or CUTOVER_ADMIN_TOKENS=ana:<token>,bo:<token>).
       * Outside environment development each must have 32 characters or more.
       */
      adminTokens: z.record(z.string().regex(/^[A-Za-z0-9._@-]+$/, 'a token name is letters, digits and . _ @ -'), z.string().min(1)).default({}),
      /** One more admin token, named `admin`. With no token at all, one named `admin` is generated at start and printed once. */
      adminToken: z.string().default(''),
      /**
       * How long a web console session (signed in with an admin token at / on the admin port)
       * lasts before its cookie is refused and the console asks for the token again.
       */
      consoleSessionTtlMs: z.number().int().min(60_000).max(7 * 24 * 3_600_000).default(8 * 3_600_000),
      /**
       * Wrong admin tokens (console sign-in or Bearer header) one client address may present within
       * `windowMs` before the admin API answers it 429 (CUTOVER_ERR_ADMIN_RATE_LIMITED) until the
       * oldest leaves the window (flags/credential-failures.ts). Counted per instance.
       */
      adminCredentialFailures: z
        .object({
          max: z.number().int().min(1).max(10_000).default(10),
          windowMs: z.number().int().min(1_000).max(24 * 3_600_000).default(60_000),
          maxAddresses: z.number().int().min(1).max(1_000_000).default(10_000),
        })
        .prefault({}),
      /** Add x-cutover-route / x-cutover-served-by to proxied answers; off leaves the headers untouched. */
      exposeHeaders: z.boolean().default(true),
      /**
       * Relay requests no second side looks at (legacy/retired mode, unknown routes, kill switch) at the socket
       * level (proxy/transport/fast-lane.ts, decision 0016); off sends every request through node:http and undici.
       */
      fastLane: z.boolean().default(true),
      /** Time the serving upstream has to send its headers (then between body chunks) before the client gets 504. */
      upstreamTimeoutMs: z.number().int().positive().default(30_000),
      /** Keep-alive connections the proxy keeps per upstream. */
      connectionsPerUpstream: z.number().int().positive().default(128),
      /**
       * Bounds on the client side of the transport (slowloris, oversized heads), the same on the fast lane and on
       * node:http (node's own defaults). A client that sends no complete head within `headersTimeoutMs`, or no complete
       * request within `requestTimeoutMs`, gets 408 and its connection closes; a head over `maxHeaderBytes` gets 431.
       */
      headersTimeoutMs: z.number().int().positive().default(60_000),
      requestTimeoutMs: z.number().int().positive().default(300_000),
      maxHeaderBytes: z.number().int().min(1024).default(16_384),
      /**
       * Bytes of pipelined requests the fast lane buffers per connection while an exchange runs; past them it stops
       * reading that client (TCP backpressure) until the exchange is done, as node:http does. Nothing is refused.
       */
      maxPipelinedBytes: z.number().int().min(1024).default(1_048_576),
      /** Requests that may wait for a fast-lane connection to one upstream when all its connections are busy; beyond, 503. */
      maxWaitersPerUpstream: z.number().int().positive().default(1024),
      /** Header that gives the canary's sticky key when there is no JWT subject, session user or county_id. */
      canaryKeyHeader: z.string().toLowerCase().default('x-cutover-canary-key'),
      shadow: z
        .object({
          /** Hard limit of a shadow copy, from send to last body byte; then it is aborted and counted errored. */
          timeoutMs: z.number().int().positive().default(10_000),
          /** Request bodies are buffered once up to this size to be replayed to both sides; larger ones are not shadowed. */
          maxRequestBodyBytes: z.number().int().nonnegative().default(1_048_576),
          /** Response bytes kept per side for the comparison; beyond it the observation is ignored by rule `compare.max-body`. */
          maxCompareBodyBytes: z.number().int().positive().default(4_194_304),
          /**
           * Shadow copies in flight per route; over it the copy is dropped and counted, never queued. At saturation
           * copies outlive their serving answers: 64 dropped 4-6% of them behind 50 busy client connections, 128
           * none (decision 0037, dated section). Each copy holds at most its captured bodies, so the memory bound
           * is this count times those caps.
           */
          perRouteConcurrency: z.number().int().positive().default(128),
          /** Shadow copies in flight across all routes (four routes at their own limit). */
          totalConcurrency: z.number().int().positive().default(512),
          /** Share (0..1) of mismatches whose full bodies are stored with the observation. */
          mismatchBodySampleRate: z.number().min(0).max(1).default(1),
          /** Bytes kept of each stored mismatch body (the rest is cut). */
          mismatchBodyMaxBytes: z.number().int().positive().default(65_536),
          /**
           * Keep-alive connections per origin for shadow copies, in a pool apart from the serving
           * one (proxy/serving/upstreams.ts): a copy beyond them waits inside that pool, under its timeout.
           */
          connectionsPerUpstream: z.number().int().positive().default(64),
          /** Keep-alive connections per origin for eventual-state polls (proxy/stateful/eventual-state.ts), apart from serving and shadow copies. */
          pollConnectionsPerUpstream: z.number().int().positive().default(4),
          /**
           * A shadow side that refuses connections (down, restarting) is not dialled for every copy:
           * after `failures` connections in a row fail to open, copies and polls to it fail at once
           * (errored, the last failure's code) for `retryMs`, then one copy tries again; each failed
           * try doubles the wait, up to `maxRetryMs` (proxy/wire/socket-pool.ts, decision 0045).
           */
          connectBreaker: z
            .object({
              failures: z.number().int().positive().default(5),
              retryMs: z.number().int().positive().default(250),
              maxRetryMs: z.number().int().positive().default(2_000),
            })
            .refine((breaker) => breaker.maxRetryMs >= breaker.retryMs, { message: 'maxRetryMs must be at least retryMs' })
            .prefault({}),
        })
        .prefault({}),
      observations: z
        .object({
          /** Observations written to the store per batch. */
          batchSize: z.number().int().positive().default(200),
          /** Longest time an observation waits before its batch is written. */
          flushIntervalMs: z.number().int().positive().default(500),
          /** Observations waiting for comparison or writing; beyond it new ones are dropped and counted. */
          maxQueued: z.number().int().positive().default(10_000),
          /**
           * Bytes held by observations waiting for comparison or writing (both answers' captured
           * bodies, then what is stored); beyond it new ones are dropped and counted (reason
           * `queue_bytes`). 256 MiB holds one pair of 64 MiB downloads beside ordinary traffic.
           */
          maxQueuedBytes: z.number().int().positive().default(268_435_456),
          /**
           * Days of observations kept. Retention drops whole day partitions (UTC): a day goes once
           * all of it is older than this (`cutover observations prune`, and the proxy instance that
           * holds the retention lock, every maintenanceIntervalMs).
           */
          retentionDays: z.number().int().positive().default(7),
          /** Day partitions created ahead of today, so the first insert of a day finds its partition. */
          partitionsAheadDays: z.number().int().nonnegative().default(3),
          /** How often one proxy instance (an advisory lock elects it) creates partitions ahead and drops expired ones. */
          maintenanceIntervalMs: z.number().int().positive().default(600_000),
        })
        .prefault({}),
      /** Where shadowed exchanges are compared: worker processes beside the proxy (proxy/shadow/compare-pool.ts), never its serving event loop. */
      compare: z
        .object({
          /** Comparison worker processes per proxy process (each up to ~150 MiB once it has opened an export with GDAL). */
          workers: z.number().int().positive().default(1),
          /** Longest one comparison may take (a 64 MiB download opened with GDAL takes seconds); past it the worker is killed and replaced. */
          timeoutMs: z.number().int().positive().default(60_000),
          /**
           * Exchanges whose two captured bodies together hold at most this many bytes, on a route
           * that compares no exported file, are compared on the proxy's own loop a slice per turn:
           * there a comparison costs ~10 µs, less than sending it to a worker (~30 µs of
           * serialising and IPC). Larger ones go to the workers. 0 sends every comparison to a worker.
           */
          inlineMaxBytes: z.number().int().nonnegative().default(16_384),
          /**
           * How far below the proxy's own CPU priority the workers run (Unix nice, added to the
           * proxy's and capped at 19): when the proxy's cores are busy, the kernel gives them to
           * serving first, and a comparison waits. 0 runs them at the proxy's priority.
           */
          niceness: z.number().int().min(0).max(19).default(10),
        })
        .prefault({}),
    })
    .prefault({}),
  ollama: z
    .object({
      /** A real Ollama when it answers here; otherwise the stand-in is started on this port. */
      url: z.string().url().default('http://127.0.0.1:11434'),
      model: z.string().default('llama3.2'),
      maxTokens: z.number().int().positive().default(1000),
      temperature: z.number().min(0).max(2).default(0.7),
      timeoutSeconds: z.number().positive().default(30),
    })
    .prefault({}),
  auth: z
    .object({
      /**
       * HS256 key shared by the legacy and TypeScript gateways, so tokens work on both. The
       * default (legacy/terrafusion_gateway/development_secrets.json) is refused outside
       * environment development (src/config/secrets.ts).
       */
      jwtSecretKey: z.string().min(16).default(developmentSecrets.jwtSecretKey),
      /** Flask's SECRET_KEY: signs the gateways' session cookie. Its default is refused outside development too. */
      sessionSecretKey: z.string().min(16).default(developmentSecrets.sessionSecretKey),
    })
    .prefault({}),
  seed: z
    .object({
      /** The generator's seed: the same seed gives byte-identical counties. */
      seed: z.number().int().default(20250515),
      /** Counties seeded by `cutover up` when the database is empty. */
      counties: z
        .array(z.object({ countyId: z.string(), parcels: z.number().int().min(1).max(2_000_000) }))
        .default([
          { countyId: 'benton_wa', parcels: 20_000 },
          { countyId: 'franklin_wa', parcels: 5_000 },
          { countyId: 'test_county', parcels: 500 },
        ]),
    })
    .prefault({}),
  /** What is redacted (parity/compare/redact.ts) before a fixture, an observation or a report is written. */
  redaction: z
    .object({
      /**
       * PII redacted besides credentials (always redacted): plain field names, matched at any
       * depth of a JSON or form body and in query strings (`full_name`), or JSON paths
       * (`$.user.full_name`, `$[*].owner_name`). The defaults are what the legacy platform
       * carries: users' full names (RBAC files, login answers), property owners' names and
       * addresses (seed-sample-data), and the contact and identity fields a county's data may hold.
       * Parcel addresses (`address`) are public record and compared, so they are not in the list.
       */
      piiFields: z.array(z.string().min(1)).default([...defaultPiiFields]),
    })
    .prefault({}),
  /** Golden fixtures (`cutover record`, `cutover replay`; parity/runner/). */
  fixtures: z
    .object({
      /** Where fixtures are written and read; default the committed set, parity/fixtures/. */
      dir: z.string().optional(),
      /** Most fixtures kept per route, and in one recording. */
      maxPerRoute: z.number().int().positive().default(20),
      maxTotal: z.number().int().positive().default(1000),
      /** Largest answer body recorded; larger answers are left out rather than cut. */
      maxBodyBytes: z.number().int().positive().default(2 * 1024 * 1024),
      /**
       * Passwords replay logs in with, by username: fixtures keep only the username. Defaults are
       * the demo users the sample RBAC files ship (legacy/county_configs/<key>/rbac/).
       */
      replayPasswords: z
        .record(z.string(), z.string())
        .default({ admin: 'admin123', assessor: 'assessor123', staff: 'staff123', auditor: 'auditor123' }),
    })
    .prefault({}),
  /** The readiness gate: thresholds (each overridable per route and on the command line) and its default window. */
  gate: z
    .object({
      thresholds: gateThresholdsSchema.prefault({}),
      /** How far back `cutover gate` and the promotion guard look when no --since is given. */
      windowHours: z.number().positive().default(24),
      /** How often the harness samples the CPU and memory of the services it runs, for the resources criterion (`cutover up`, the main job). */
      resourceSampleIntervalMs: z.number().int().positive().default(5000),
    })
    .prefault({}),
  /** Progressive rollouts (`cutover rollout`, rollout/): defaults of `rollout start`, the controller's pace and the budgets that roll back. */
  rollout: z
    .object({
      /** Canary percentages, rising. */
      steps: z.array(z.number().int().min(1).max(100)).min(1).default([1, 5, 25, 50, 100]),
      /** How long each step lasts at least before it may rise. */
      stepDurationMs: z.number().int().positive().default(600_000),
      /** Consecutive checks breaching a budget that roll the route back to shadow. */
      checks: z.number().int().positive().default(3),
      /** How often the controller analyses each running rollout. */
      checkIntervalMs: z.number().int().positive().default(30_000),
      /** Observations a step needs before it may rise (and before its latency can breach). */
      minSamplesPerStep: z.number().int().positive().default(100),
      /** Budgets: a check breaches one when the rate's lower confidence bound (the latency ratio itself) is over it. */
      budgets: z
        .object({
          mismatchRate: z.number().min(0).max(1).default(0.01),
          errorRate: z.number().min(0).max(1).default(0.01),
          latencyRatio: z.number().positive().default(1.5),
        })
        .prefault({}),
    })
    .prefault({}),
  /**
   * Environment name, passed to every service as ENVIRONMENT (the legacy sync reports it on
   * /health). Anything but `development` refuses the development secrets and short admin tokens.
   */
  environment: z.string().default('development'),
});

export type CutoverConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type Endpoint = { host: string; port: number };

/**
 * Environment variables the config understands, each mapped to its path. The legacy
 * platform's own names (DATABASE_URL, OLLAMA_URL, JWT_SECRET_KEY...) are honoured as is.
 */
export const environmentVariables: ReadonlyArray<{ name: string; path: string; kind: 'string' | 'number' | 'pairs' }> = [
  { name: 'DATABASE_URL', path: 'database.url', kind: 'string' },
  { name: 'CUTOVER_STATE_DIR', path: 'stateDir', kind: 'string' },
  { name: 'CUTOVER_EMBEDDED_PG_PORT', path: 'database.embeddedPort', kind: 'number' },
  { name: 'CUTOVER_PYTHON', path: 'python', kind: 'string' },
  { name: 'CUTOVER_ROUTES_FILE', path: 'routesFile', kind: 'string' },
  { name: 'OLLAMA_URL', path: 'ollama.url', kind: 'string' },
  { name: 'AI_MODEL_NAME', path: 'ollama.model', kind: 'string' },
  { name: 'AI_MAX_TOKENS', path: 'ollama.maxTokens', kind: 'number' },
  { name: 'AI_TEMPERATURE', path: 'ollama.temperature', kind: 'number' },
  { name: 'AI_TIMEOUT_SECONDS', path: 'ollama.timeoutSeconds', kind: 'number' },
  { name: 'JWT_SECRET_KEY', path: 'auth.jwtSecretKey', kind: 'string' },
  { name: 'CUTOVER_ADMIN_TOKEN', path: 'proxy.adminToken', kind: 'string' },
  { name: 'CUTOVER_ADMIN_TOKENS', path: 'proxy.adminTokens', kind: 'pairs' },
  { name: 'SECRET_KEY', path: 'auth.sessionSecretKey', kind: 'string' },
  { name: 'CUTOVER_SEED', path: 'seed.seed', kind: 'number' },
  { name: 'ENVIRONMENT', path: 'environment', kind: 'string' },
  { name: 'LEGACY_GATEWAY_PORT', path: 'legacy.gateway.port', kind: 'number' },
  { name: 'LEGACY_SYNC_PORT', path: 'legacy.sync.port', kind: 'number' },
  { name: 'LEGACY_NARRATOR_PORT', path: 'legacy.narrator.port', kind: 'number' },
  { name: 'REIMPL_GATEWAY_PORT', path: 'reimpl.gateway.port', kind: 'number' },
  { name: 'REIMPL_SYNC_PORT', path: 'reimpl.sync.port', kind: 'number' },
  { name: 'REIMPL_GIS_EXPORT_PORT', path: 'reimpl.gisExport.port', kind: 'number' },
  { name: 'REIMPL_NARRATOR_PORT', path: 'reimpl.narrator.port', kind: 'number' },
  { name: 'REIMPL_EXPORT_MAX_SEMI_SPACE_MB', path: 'reimpl.exportHeap.maxSemiSpaceMb', kind: 'number' },
  { name: 'REIMPL_EXPORT_MAX_OLD_SPACE_MB', path: 'reimpl.exportHeap.maxOldSpaceMb', kind: 'number' },
  { name: 'REIMPL_EXPORT_MALLOC_ARENA_MAX', path: 'reimpl.exportHeap.mallocArenaMax', kind: 'number' },
  { name: 'REIMPL_EXPORT_WORKER_IDLE_MS', path: 'reimpl.exportWorkers.idleLifetimeMs', kind: 'number' },
  { name: 'REIMPL_EXPORT_WORKER_RSS_CEILING_MB', path: 'reimpl.exportWorkers.rssCeilingMb', kind: 'number' },
  { name: 'PROXY_GATEWAY_PORT', path: 'proxy.gateway.port', kind: 'number' },
  { name: 'PROXY_SYNC_PORT', path: 'proxy.sync.port', kind: 'number' },
  { name: 'PROXY_NARRATOR_PORT', path: 'proxy.narrator.port', kind: 'number' },
  { name: 'PROXY_ADMIN_PORT', path: 'proxy.admin.port', kind: 'number' },
  { name: 'CUTOVER_UPSTREAM_CA_FILE', path: 'proxy.upstreamTls.caFile', kind: 'string' },
  { name: 'CUTOVER_UPSTREAM_CERT_FILE', path: 'proxy.upstreamTls.certFile', kind: 'string' },
  { name: 'CUTOVER_UPSTREAM_KEY_FILE', path: 'proxy.upstreamTls.keyFile', kind: 'string' },
  { name: 'CUTOVER_DRAIN_TIMEOUT_MS', path: 'proxy.drainTimeoutMs', kind: 'number' },
  { name: 'CUTOVER_LOG_FORMAT', path: 'proxy.logFormat', kind: 'string' },
];

/** Prefix of the upstream URL variables, CUTOVER_UPSTREAM_<SIDE>_<NAME> (read by src/config/load.ts). */
export const upstreamVariablePrefix = 'CUTOVER_UPSTREAM_';
