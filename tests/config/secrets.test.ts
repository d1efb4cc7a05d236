import { spawn, spawnSync } from 'node:child_process';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createAdminServer } from '../../flags/admin-server.js';
import { createFakeFlagStore } from '../../flags/fake-flag-store.js';
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import { FakeObservationStore } from '../../proxy/observe/fake-observation-store.js';
import { startProxy } from '../../proxy/start.js';
import { loadGatewaySettings } from '../../reimpl/gateway/settings.js';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { developmentSecrets, minimumAdminTokenLength, namedAdminTokens, refuseUnsafeSecrets } from '../../src/config/secrets.js';
import { legacyDir, repoRoot } from '../../src/platform/paths.js';

const noEnv = {} as NodeJS.ProcessEnv;
const ownSecrets = { jwtSecretKey: 'a-jwt-secret-of-this-deployment-only', sessionSecretKey: 'a-session-secret-of-this-deployment' };
const longToken = 'x'.repeat(minimumAdminTokenLength);
const production = (overrides: ConfigInput = {}) => loadConfig({ env: noEnv, overrides: { environment: 'production', ...overrides } });
const python = '/usr/bin/python3';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

/** Runs a gateway's entry point until it prints its listening line or exits; the process is ended either way. */
function startGateway(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('listening on')) child.kill('SIGTERM');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the secrets rule', () => {
  it('refuses the development JWT and session secrets outside development, naming both', () => {
    let message = '';
    try {
      refuseUnsafeSecrets('the part', { environment: 'production', jwtSecretKey: developmentSecrets.jwtSecretKey, sessionSecretKey: developmentSecrets.sessionSecretKey });
    } catch (error) {
      expect((error as { code: string }).code).toBe('CUTOVER_ERR_SECRETS_UNSAFE');
      message = (error as Error).message;
    }
    expect(message).toContain('JWT secret');
    expect(message).toContain('session secret');
    expect(message).not.toContain(developmentSecrets.jwtSecretKey);
  });

  it('refuses an admin token of 31 characters outside development and accepts one of 32', () => {
    expect(codeOf(() => refuseUnsafeSecrets('p', { environment: 'staging', ...ownSecrets, adminTokens: { ana: longToken.slice(1) } }))).toBe('CUTOVER_ERR_SECRETS_UNSAFE');
    expect(codeOf(() => refuseUnsafeSecrets('p', { environment: 'staging', ...ownSecrets, adminTokens: { ana: longToken } }))).toBeUndefined();
  });

  it('accepts the development secrets and a short admin token in development', () => {
    const config = loadConfig({ env: noEnv, overrides: { proxy: { adminToken: 'short' } } });
    expect(config.environment).toBe('development');
    expect(config.auth.jwtSecretKey).toBe(developmentSecrets.jwtSecretKey);
    expect(codeOf(() => refuseUnsafeSecrets('p', { environment: 'development', ...developmentSecrets, adminTokens: { admin: 'short' } }))).toBeUndefined();
  });

  it('reads named admin tokens from CUTOVER_ADMIN_TOKENS and the session secret from SECRET_KEY', () => {
    const config = loadConfig({ env: { CUTOVER_ADMIN_TOKENS: `ana:${longToken}a,bo:${longToken}b`, SECRET_KEY: ownSecrets.sessionSecretKey } });
    expect(namedAdminTokens(config.proxy)).toEqual({ ana: `${longToken}a`, bo: `${longToken}b` });
    expect(config.auth.sessionSecretKey).toBe(ownSecrets.sessionSecretKey);
    expect(codeOf(() => loadConfig({ env: { CUTOVER_ADMIN_TOKENS: `ana-without-a-token` } }))).toBe('CUTOVER_ERR_CONFIG_INVALID');
  });

  it('refuses one token given to two names, since its actor would be unknown', () => {
    const config = loadConfig({ env: noEnv, overrides: { proxy: { adminTokens: { ana: longToken, bo: longToken } } } });
    expect(codeOf(() => namedAdminTokens(config.proxy))).toBe('CUTOVER_ERR_CONFIG_INVALID');
  });

  it('stops the proxy and the admin API from starting outside development with a default secret or a short token', async () => {
    const catalogue = loadRouteCatalogue();
    const flags = createFakeFlagStore({ catalogue });
    const proxyWith = (config: ReturnType<typeof loadConfig>) =>
      startProxy({ config, catalogue, flagSource: flags.source(), observationStore: new FakeObservationStore(), services: [] });
    const adminWith = (config: ReturnType<typeof loadConfig>) => createAdminServer({ config, flagStore: flags, flagSource: flags.source(), metricsRegistry: new Registry(), catalogue });
    const unsafe = [production(), production({ auth: ownSecrets, proxy: { adminTokens: { ana: 'too-short' } } })];
    for (const config of unsafe) {
      await expect(proxyWith(config)).rejects.toMatchObject({ code: 'CUTOVER_ERR_SECRETS_UNSAFE' });
      expect(codeOf(() => adminWith(config))).toBe('CUTOVER_ERR_SECRETS_UNSAFE');
    }
    const safe = production({ auth: ownSecrets, proxy: { adminTokens: { ana: longToken } } });
    const proxy = await proxyWith(safe);
    await proxy.close();
    expect(adminWith(safe).generatedToken).toBe(false);
  });

  it('stops the TypeScript gateway outside development with the development secrets, and lets it start with its own', async () => {
    expect(codeOf(() => loadGatewaySettings({ ENVIRONMENT: 'production' }))).toBe('CUTOVER_ERR_SECRETS_UNSAFE');
    expect(codeOf(() => loadGatewaySettings({ ENVIRONMENT: 'production', JWT_SECRET_KEY: ownSecrets.jwtSecretKey, SECRET_KEY: '' }))).toBe('CUTOVER_ERR_SECRETS_UNSAFE');
    expect(loadGatewaySettings({}).jwtSecretKey).toBe(developmentSecrets.jwtSecretKey);
    const refused = await startGateway(process.execPath, ['--import', 'tsx', 'reimpl/gateway/main.ts'], repoRoot, { ENVIRONMENT: 'production', JWT_SECRET_KEY: ownSecrets.jwtSecretKey });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('CUTOVER_ERR_SECRETS_UNSAFE');
    expect(refused.stderr).toContain('SECRET_KEY');
    const started = await startGateway(process.execPath, ['--import', 'tsx', 'reimpl/gateway/main.ts'], repoRoot, {
      ENVIRONMENT: 'production', JWT_SECRET_KEY: ownSecrets.jwtSecretKey, SECRET_KEY: ownSecrets.sessionSecretKey,
    });
    expect(started.stdout).toContain('listening on http://127.0.0.1:');
  });

  it('stops the legacy gateway outside development with the development secrets (exit 2, the code on stderr), and lets it start with its own', async () => {
    const env = { PYTHONPATH: legacyDir, PYTHONDONTWRITEBYTECODE: '1', ENVIRONMENT: 'production' };
    const refused = await startGateway(python, ['-m', 'terrafusion_gateway'], legacyDir, env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('CUTOVER_ERR_SECRETS_UNSAFE');
    expect(refused.stderr).toContain('JWT_SECRET_KEY is the development default');
    expect(refused.stdout).not.toContain('listening');
    const started = await startGateway(python, ['-m', 'terrafusion_gateway'], legacyDir, { ...env, JWT_SECRET_KEY: ownSecrets.jwtSecretKey, SECRET_KEY: ownSecrets.sessionSecretKey });
    expect(started.stdout).toContain('listening on http://127.0.0.1:');
  });

  it('has one declaration of the development secrets, which the Python gateway reads too', () => {
    const printed = spawnSync(python, ['-c', 'import json; from terrafusion_gateway.settings import load_settings as l; s = l({}); print(json.dumps([s.jwt_secret_key, s.secret_key]))'], {
      cwd: legacyDir, env: { PYTHONPATH: legacyDir, PYTHONDONTWRITEBYTECODE: '1' }, encoding: 'utf8',
    });
    expect(JSON.parse(printed.stdout)).toEqual([developmentSecrets.jwtSecretKey, developmentSecrets.sessionSecretKey]);
    const config = loadConfig({ env: noEnv });
    expect([config.auth.jwtSecretKey, config.auth.sessionSecretKey]).toEqual([developmentSecrets.jwtSecretKey, developmentSecrets.sessionSecretKey]);
  });
});
