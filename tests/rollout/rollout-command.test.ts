/** `cutover rollout` on the machine's PostgreSQL: started through the gate (forced here, audited), shown, paused, resumed and aborted. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { flagsCommand } from '../../src/cli/commands/flags.js';
import { parseDuration, rolloutCommand } from '../../src/cli/commands/rollout.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';

async function run(command: typeof rolloutCommand, ...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void lines.push(parts.map(String).join(' ')));
  try {
    return { code: await command.run(argv), out: lines.join('\n') };
  } finally {
    log.mockRestore();
  }
}

describe('the cutover rollout command', () => {
  let database: IsolatedDatabase;
  const serverUrl = process.env.DATABASE_URL;
  beforeAll(async () => {
    database = await createIsolatedDatabase('rollout_cli');
    process.env.DATABASE_URL = database.url;
  });
  afterAll(async () => {
    process.env.DATABASE_URL = serverUrl;
    await database?.drop();
  });

  it('refuses to start without evidence, starts forced at the first step, and shows it', async () => {
    await expect(run(rolloutCommand, 'start', 'sync.health', '--steps', '5,50,100', '--reason', 'go')).rejects.toMatchObject({ code: 'CUTOVER_ERR_GATE_NOT_PASSED' });
    const started = await run(rolloutCommand, 'start', 'sync.health', '--steps', '5,50,100', '--step-duration', '10m', '--checks', '2', '--reason', 'go', '--force');
    expect(started.out).toContain('FORCED past the readiness gate: sync.health is INSUFFICIENT_EVIDENCE');
    expect(started.out).toContain('sync.health  running  step 1/3 (canary:5), steps 5,50,100 of 10m, 0/2 breaches; not checked yet');
    expect((await run(flagsCommand, 'list')).out).toMatch(/sync\.health .* canary:5/);
    expect((await run(rolloutCommand, 'pause', 'sync.health')).out).toContain('paused');
    expect((await run(rolloutCommand, 'resume', 'sync.health')).out).toContain('running');
    expect((await run(rolloutCommand, 'abort', 'sync.health', '--reason', 'not today')).out).toContain('aborted');
    expect((await run(flagsCommand, 'list')).out).toMatch(/sync\.health .* shadow/);
    expect((await run(rolloutCommand, 'status')).out).toMatch(/^sync\.health {2}aborted/);
  });

  it('names bad input', async () => {
    await expect(run(rolloutCommand, 'start', 'sync.health', '--steps', '50,5', '--reason', 'x', '--force')).rejects.toMatchObject({ code: 'CUTOVER_ERR_ROLLOUT_INVALID' });
    await expect(run(rolloutCommand, 'start', 'sync.health')).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_REASON_REQUIRED' });
    await expect(run(rolloutCommand, 'pause', 'sync.health')).rejects.toMatchObject({ code: 'CUTOVER_ERR_ROLLOUT_INVALID' });
    await expect(run(rolloutCommand, 'spin')).rejects.toMatchObject({ code: 'CUTOVER_ERR_USAGE' });
    expect(parseDuration('10m')).toBe(600_000);
    expect(() => parseDuration('10')).toThrow(expect.objectContaining({ code: 'CUTOVER_ERR_ROLLOUT_INVALID' }));
  });
});
