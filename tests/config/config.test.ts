import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { CutoverError } from '../../src/errors.js';

const noEnv = {} as NodeJS.ProcessEnv;

describe('the configuration', () => {
  it('has the contract default ports when nothing overrides them', () => {
    const config = loadConfig({ env: noEnv, file: undefined });
    expect(config.legacy.gateway.port).toBe(5000);
    expect(config.legacy.sync.port).toBe(8080);
    expect(config.legacy.narrator.port).toBe(7100);
    expect(config.proxy.admin.port).toBe(8009);
    expect(config.database.url).toBeUndefined();
    expect(config.database.embeddedPort).not.toBe(5432);
  });

  it('layers a config file under environment variables under programmatic overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-config-'));
    const file = join(dir, 'cutover.config.json');
    writeFileSync(file, JSON.stringify({ legacy: { sync: { port: 9001 }, gateway: { port: 9002 } }, ollama: { model: 'from-file' } }));
    const config = loadConfig({ file, env: { LEGACY_GATEWAY_PORT: '9003', AI_MODEL_NAME: 'from-env' }, overrides: { ollama: { model: 'from-code' } } });
    expect(config.legacy.sync.port).toBe(9001);
    expect(config.legacy.gateway.port).toBe(9003);
    expect(config.legacy.gateway.host).toBe('127.0.0.1');
    expect(config.ollama.model).toBe('from-code');
  });

  it('is frozen, so no part of the harness can change it behind the others', () => {
    const config = loadConfig({ env: noEnv });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.legacy.sync)).toBe(true);
  });

  it('names every invalid field in one CUTOVER_ERR_CONFIG_INVALID error', () => {
    let caught: unknown;
    try {
      loadConfig({ env: noEnv, overrides: { legacy: { sync: { port: 70000 } }, ollama: { url: 'not a url' } } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CutoverError);
    expect((caught as CutoverError).code).toBe('CUTOVER_ERR_CONFIG_INVALID');
    expect((caught as CutoverError).message).toContain('legacy.sync.port');
    expect((caught as CutoverError).message).toContain('ollama.url');
  });

  it('refuses a non-numeric port in the environment with the variable named', () => {
    expect(() => loadConfig({ env: { LEGACY_SYNC_PORT: 'eighty' } })).toThrow(/LEGACY_SYNC_PORT=eighty is not a number/);
  });

  it('refuses a config file that is not JSON, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-config-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ not json');
    expect(() => loadConfig({ file, env: noEnv })).toThrow(/broken\.json/);
  });
});
