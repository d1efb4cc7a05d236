import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../../src/platform/paths.js';
import { composeCommand } from './compose-command.js';


describe('legacy/compose.yml', () => {
  it('is accepted by `compose config`', () => {
    const [command, ...args] = composeCommand();
    const output = execFileSync(command!, [...args, '-f', 'legacy/compose.yml', 'config'], { cwd: repoRoot, encoding: 'utf8' });
    const resolved = parse(output) as { services: Record<string, unknown> };
    expect(Object.keys(resolved.services).sort()).toEqual(['gateway', 'narrator', 'ollama', 'postgres', 'seed', 'sync']);
  });

  it('starts every legacy service with the same module entry points the native supervisor uses', () => {
    const compose = parse(execFileSync('cat', ['legacy/compose.yml'], { cwd: repoRoot, encoding: 'utf8' })) as {
      services: Record<string, { command?: string[] }>;
    };
    expect(compose.services.sync?.command).toContain('terrafusion_sync.app:app');
    expect(compose.services.gateway?.command).toEqual(['python3', '-m', 'terrafusion_gateway']);
    expect(compose.services.narrator?.command).toEqual(['python3', '-m', 'terrafusion_narrator']);
  });
});
