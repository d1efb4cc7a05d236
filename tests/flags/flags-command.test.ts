import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { flagsCommand } from '../../src/cli/commands/flags.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';

/** Runs `cutover flags ...` in process and returns what it printed. */
async function flags(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
  try {
    const code = await flagsCommand.run(argv);
    return { code, out: lines.join('\n') };
  } finally {
    log.mockRestore();
  }
}

describe('the cutover flags command', () => {
  let database: IsolatedDatabase;
  const serverUrl = process.env.DATABASE_URL;
  beforeAll(async () => {
    database = await createIsolatedDatabase('flags_cli');
    process.env.DATABASE_URL = database.url;
  });
  afterAll(async () => {
    process.env.DATABASE_URL = serverUrl;
    await database?.drop();
  });

  it('sets a glob to shadow and lists every catalogued route with its mode as JSON', async () => {
    const set = await flags('set', 'narrator.*', 'shadow', '--reason', 'A/A baseline', '--actor', 'ana');
    expect(set.code).toBe(0);
    expect(set.out).toContain('narrator.summarize: shadow');
    const listed = JSON.parse((await flags('list', '--json')).out) as { killSwitch: boolean; routes: Array<{ routeId: string; mode: string; updatedBy: string | null }> };
    expect(listed.killSwitch).toBe(false);
    expect(listed.routes.find((row) => row.routeId === 'narrator.summarize')).toMatchObject({ mode: 'shadow', updatedBy: 'ana' });
    expect(listed.routes.find((row) => row.routeId === 'sync.health')).toMatchObject({ mode: 'legacy', updatedBy: null });
  });

  it('records the actor as $USER@hostname when none is given, and shows it in the history', async () => {
    await flags('set', 'sync.health', 'shadow', '--reason', 'compare first');
    const history = JSON.parse((await flags('history', 'sync.health', '--json')).out) as Array<{ actor: string; from: string; to: string; reason: string }>;
    expect(history[0]).toMatchObject({ from: 'legacy', to: 'shadow', reason: 'compare first' });
    expect(history[0]!.actor).toMatch(/^.+@.+$/);
  });

  it('refuses a promotion the readiness gate does not pass, and lets it through forced, audited as forced', async () => {
    await expect(flags('set', 'sync.health', 'canary', '--percent', '5', '--reason', 'try five percent')).rejects.toMatchObject({
      code: 'CUTOVER_ERR_GATE_NOT_PASSED',
      message: expect.stringContaining('sync.health is INSUFFICIENT_EVIDENCE (evidence.compared'),
    });
    const forced = await flags('set', 'sync.health', 'canary', '--percent', '5', '--reason', 'try five percent', '--force');
    expect(forced.out).toContain('FORCED past the readiness gate: sync.health is INSUFFICIENT_EVIDENCE');
    const history = JSON.parse((await flags('history', 'sync.health', '--json')).out) as Array<{ to: string; reason: string }>;
    expect(history[0]).toMatchObject({ to: 'canary:5', reason: expect.stringMatching(/^FORCED past the readiness gate .*: try five percent$/) });
    expect((await flags('set', 'sync.health', 'legacy', '--reason', 'back')).out).toContain('sync.health: legacy');
  });

  it('engages and releases the kill switch, each with its reason', async () => {
    expect((await flags('kill', '--reason', 'parity dropped')).out).toContain('engaged');
    expect((await flags('list')).out).toContain('KILL SWITCH ENGAGED');
    expect((await flags('unkill', '--reason', 'fixed')).out).toContain('released');
    expect((await flags('history', '*')).out).toMatch(/kill switch.*on\s+off\s+fixed/);
  });

  it('refuses a change without a reason, an unknown mode and a bad percent with named errors', async () => {
    await expect(flags('set', 'sync.health', 'shadow')).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_REASON_REQUIRED' });
    await expect(flags('kill')).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_REASON_REQUIRED' });
    await expect(flags('set', 'sync.health', 'sideways', '--reason', 'x')).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_INVALID' });
    await expect(flags('set', 'sync.health', 'canary', '--percent', 'lots', '--reason', 'x')).rejects.toMatchObject({ code: 'CUTOVER_ERR_USAGE' });
    await expect(flags('set', 'sync.nothing', 'shadow', '--reason', 'x')).rejects.toMatchObject({ code: 'CUTOVER_ERR_FLAG_ROUTE_UNKNOWN' });
    await expect(flags('frobnicate')).rejects.toMatchObject({ code: 'CUTOVER_ERR_USAGE' });
  });
});
