/**
 * The gateway's environment, read once at start and frozen.
 * Reproduces legacy/terrafusion_gateway/settings.py: the same variables and defaults, and the
 * same refusal of the development secrets outside ENVIRONMENT=development.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { developmentSecrets, refuseUnsafeSecrets } from '../../src/config/secrets.js';
import { CutoverError } from '../../src/errors.js';

export interface GatewaySettings {
  host: string;
  port: number;
  /** The gateway's own store, probed by /health. */
  databaseUrl: string;
  syncServiceUrl: string;
  narratorUrl: string;
  countyConfigsDir: string;
  jwtSecretKey: string;
  /** Flask's SECRET_KEY: signs the session cookie. */
  secretKey: string;
  environment: string;
  /** Seconds a passthrough may wait to connect / for the answer before it counts as an error. */
  upstreamConnectTimeout: number;
  upstreamReadTimeout: number;
  /** The narrator may wait AI_TIMEOUT_SECONDS on Ollama and then fall back: it gets 15 s more. */
  narratorReadTimeout: number;
  /** The health probes must answer fast even when a dependency hangs. */
  healthProbeTimeout: number;
}

const defaultCountyConfigsDir = resolve(fileURLToPath(import.meta.url), '../../../legacy/county_configs');

/** A named error instead of NaN when a numeric variable is not a number. */
export function numberFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: string): number {
  const text = env[name] ?? fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new CutoverError('CUTOVER_ERR_SERVICE_SETTINGS_INVALID', `${name}=${JSON.stringify(text)} is not a number`);
  }
  return value;
}

/** Throws CUTOVER_ERR_SECRETS_UNSAFE outside development when a secret is the development default or empty. */
export function loadGatewaySettings(env: NodeJS.ProcessEnv = process.env): Readonly<GatewaySettings> {
  const aiTimeout = numberFromEnv(env, 'AI_TIMEOUT_SECONDS', '30');
  const settings = Object.freeze({
    host: env.HOST ?? '127.0.0.1',
    port: numberFromEnv(env, 'PORT', '5100'),
    databaseUrl: env.DATABASE_URL ?? '',
    syncServiceUrl: (env.SYNC_SERVICE_URL ?? 'http://127.0.0.1:8180').replace(/\/+$/, ''),
    narratorUrl: (env.NARRATOR_URL ?? 'http://127.0.0.1:7200').replace(/\/+$/, ''),
    countyConfigsDir: env.COUNTY_CONFIGS_DIR || defaultCountyConfigsDir,
    jwtSecretKey: env.JWT_SECRET_KEY ?? developmentSecrets.jwtSecretKey,
    secretKey: env.SECRET_KEY ?? developmentSecrets.sessionSecretKey,
    environment: env.ENVIRONMENT ?? 'development',
    upstreamConnectTimeout: numberFromEnv(env, 'GATEWAY_CONNECT_TIMEOUT_SECONDS', '3'),
    upstreamReadTimeout: numberFromEnv(env, 'GATEWAY_READ_TIMEOUT_SECONDS', '60'),
    narratorReadTimeout: aiTimeout + 15,
    healthProbeTimeout: numberFromEnv(env, 'GATEWAY_HEALTH_TIMEOUT_SECONDS', '2'),
  });
  refuseUnsafeSecrets('the reimpl gateway', { environment: settings.environment, jwtSecretKey: settings.jwtSecretKey, sessionSecretKey: settings.secretKey });
  return settings;
}
