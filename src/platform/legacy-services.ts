/** How each legacy Python service is started: Debian's interpreter, the legacy/ package dir, env per the contract. */
import type { CutoverConfig, Endpoint } from '../config/schema.js';
import { countyConfigsDir, legacyDir } from './paths.js';
import type { ServiceSpec } from './service-spec.js';

export interface LegacyEnvironment {
  databaseUrl: string;
  /** search_path for the service's connections; a shadow instance uses e.g. `shadow_legacy,public`. */
  dbSchema?: string;
  exportDir: string;
  ollamaUrl: string;
  /** Where the gateway and narrator reach sync (the proxy during a migration). */
  syncServiceUrl: string;
  narratorUrl: string;
}

export interface LegacyPorts {
  sync: Endpoint;
  gateway: Endpoint;
  narrator: Endpoint;
}

function commonEnv(config: CutoverConfig, env: LegacyEnvironment): Record<string, string> {
  return {
    PYTHONPATH: legacyDir,
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    DATABASE_URL: env.databaseUrl,
    ...(env.dbSchema ? { DB_SCHEMA: env.dbSchema } : {}),
    COUNTY_CONFIGS_DIR: countyConfigsDir,
    EXPORT_DIR: env.exportDir,
    SYNC_SERVICE_URL: env.syncServiceUrl,
    NARRATOR_URL: env.narratorUrl,
    OLLAMA_URL: env.ollamaUrl,
    JWT_SECRET_KEY: config.auth.jwtSecretKey,
    SECRET_KEY: config.auth.sessionSecretKey,
    ENVIRONMENT: config.environment,
    AI_MODEL_NAME: config.ollama.model,
    AI_MAX_TOKENS: String(config.ollama.maxTokens),
    AI_TEMPERATURE: String(config.ollama.temperature),
    AI_TIMEOUT_SECONDS: String(config.ollama.timeoutSeconds),
  };
}

/** The three legacy services, in start order (sync first: the others call it). */
export function legacyServiceSpecs(
  config: CutoverConfig,
  env: LegacyEnvironment,
  ports: LegacyPorts = config.legacy,
  idPrefix = 'legacy',
): ServiceSpec[] {
  const shared = commonEnv(config, env);
  const python = (name: keyof LegacyPorts, args: string[], healthPath: string): ServiceSpec => ({
    id: `${idPrefix}.${name}`,
    command: config.python,
    args,
    cwd: legacyDir,
    env: shared,
    host: ports[name].host,
    port: ports[name].port,
    healthPath,
  });
  return [
    python('sync', ['-m', 'uvicorn', 'terrafusion_sync.app:app', '--host', ports.sync.host, '--port', String(ports.sync.port), '--no-access-log'], '/health'),
    python('narrator', ['-m', 'terrafusion_narrator'], '/api/v1/health'),
    python('gateway', ['-m', 'terrafusion_gateway'], '/health/live'),
  ];
}
