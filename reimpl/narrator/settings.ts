/**
 * The narrator's environment, read once at start and frozen.
 * Reproduces legacy/terrafusion_narrator/settings.py: the same variables and defaults.
 */
import { CutoverError } from '../../src/errors.js';
import { numberFromEnv } from '../gateway/settings.js';

const TRUE = new Set(['1', 'true', 'yes', 'on']);

export interface NarratorSettings {
  host: string;
  port: number;
  ollamaUrl: string;
  syncServiceUrl: string;
  modelName: string;
  maxTokens: number;
  temperature: number;
  /** Seconds one Ollama (or cloud) call may take before it counts as failed. */
  timeoutSeconds: number;
  enableCloudAi: boolean;
  openaiApiKey: string;
  openaiBaseUrl: string;
  openaiModel: string;
  /** When false, a failed chain answers 503 instead of the canned template answer. */
  enableTemplateFallback: boolean;
  environment: string;
}

/** Python's int(): a fraction is refused at start, as legacy's ValueError is. */
function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: string): number {
  const value = numberFromEnv(env, name, fallback);
  if (!Number.isInteger(value)) throw new CutoverError('CUTOVER_ERR_SERVICE_SETTINGS_INVALID', `${name}=${env[name]} is not an integer`);
  return value;
}

const flag = (value: string | undefined) => TRUE.has((value ?? '').trim().toLowerCase());
const trimSlash = (url: string) => url.replace(/\/+$/, '');

export function loadNarratorSettings(env: NodeJS.ProcessEnv = process.env): Readonly<NarratorSettings> {
  return Object.freeze({
    host: env.HOST ?? '127.0.0.1',
    port: numberFromEnv(env, 'PORT', '7200'),
    ollamaUrl: trimSlash(env.OLLAMA_URL ?? 'http://127.0.0.1:11434'),
    syncServiceUrl: trimSlash(env.SYNC_SERVICE_URL ?? 'http://127.0.0.1:8180'),
    modelName: env.AI_MODEL_NAME ?? 'llama3.2',
    maxTokens: intFromEnv(env, 'AI_MAX_TOKENS', '1000'),
    temperature: numberFromEnv(env, 'AI_TEMPERATURE', '0.7'),
    timeoutSeconds: numberFromEnv(env, 'AI_TIMEOUT_SECONDS', '30'),
    enableCloudAi: flag(env.ENABLE_CLOUD_AI),
    openaiApiKey: env.OPENAI_API_KEY ?? '',
    openaiBaseUrl: trimSlash(env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1'),
    openaiModel: env.OPENAI_MODEL ?? 'gpt-4o-mini',
    enableTemplateFallback: flag(env.ENABLE_TEMPLATE_FALLBACK ?? 'true'),
    environment: env.ENVIRONMENT ?? 'development',
  });
}
