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

  it('refuses a shadow connect breaker whose longest wait is shorter than its first', () => {
    expect(loadConfig({ env: noEnv, file: undefined }).proxy.shadow.connectBreaker).toEqual({ failures: 5, retryMs: 250, maxRetryMs: 2_000 });
    expect(() => loadConfig({ env: noEnv, file: undefined, overrides: { proxy: { shadow: { connectBreaker: { retryMs: 500, maxRetryMs: 100 } } } } })).toThrow(
      expect.objectContaining({ code: 'CUTOVER_ERR_CONFIG_INVALID', message: expect.stringMatching(/proxy\.shadow\.connectBreaker.*maxRetryMs must be at least retryMs/s) }),
    );
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

describe('upstream URLs in the configuration', () => {
  it('reads CUTOVER_UPSTREAM_<SIDE>_<NAME> for every side, the shadow sides included', () => {
    const config = loadConfig({
      env: {
        CUTOVER_UPSTREAM_LEGACY_SYNC: 'http://10.0.0.5:8080/',
        CUTOVER_UPSTREAM_REIMPL_GIS_EXPORT: 'https://gis.internal',
        CUTOVER_UPSTREAM_SHADOW_LEGACY_SYNC: 'http://10.0.0.6:8080',
        CUTOVER_UPSTREAM_SHADOW_REIMPL_GATEWAY: 'http://10.0.0.7:5100',
        CUTOVER_UPSTREAM_CA_FILE: '/etc/ssl/ca.pem',
      },
      file: undefined,
    });
    expect(config.proxy.upstreams.legacy).toEqual({ SYNC: 'http://10.0.0.5:8080' });
    expect(config.proxy.upstreams.reimpl).toEqual({ GIS_EXPORT: 'https://gis.internal' });
    expect(config.proxy.upstreams.shadowLegacy).toEqual({ SYNC: 'http://10.0.0.6:8080' });
    expect(config.proxy.upstreams.shadowReimpl).toEqual({ GATEWAY: 'http://10.0.0.7:5100' });
    expect(config.proxy.upstreamTls.caFile).toBe('/etc/ssl/ca.pem');
  });

  it('names an upstream the same in a file (gisExport) and in the environment (GIS_EXPORT), the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-config-'));
    const file = join(dir, 'cutover.config.json');
    writeFileSync(file, JSON.stringify({ proxy: { upstreams: { reimpl: { gisExport: 'http://from-file:1', sync: 'http://from-file:2' } } } }));
    const config = loadConfig({ file, env: { CUTOVER_UPSTREAM_REIMPL_GIS_EXPORT: 'http://from-env:1' } });
    expect(config.proxy.upstreams.reimpl).toEqual({ GIS_EXPORT: 'http://from-env:1', SYNC: 'http://from-file:2' });
  });

  it('refuses an upstream that is not an http or https URL, and a client certificate without its key', () => {
    expect(() => loadConfig({ env: { CUTOVER_UPSTREAM_LEGACY_SYNC: 'ftp://10.0.0.5' }, file: undefined })).toThrow(/proxy\.upstreams\.legacy\.SYNC: an http:\/\/ or https:\/\/ URL/);
    expect(() => loadConfig({ env: { CUTOVER_UPSTREAM_CERT_FILE: '/tls/client.pem' }, file: undefined })).toThrow(/certFile and keyFile go together/);
  });
});
