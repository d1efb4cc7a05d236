/**
 * Makes sure an Ollama answers at config.ollama.url: a real one when it is there, otherwise the
 * stand-in, started on that URL's host and port so every service configured with OLLAMA_URL
 * reaches it unchanged.
 */
import type { CutoverConfig } from '../config/schema.js';
import { CutoverError } from '../errors.js';
import { STANDIN_HEADER, startOllamaStandin } from './standin-server.js';

export interface EnsuredOllama {
  url: string;
  /** 'standin' also when a stand-in started by another process already answers there. */
  kind: 'real' | 'standin';
  /** Stops the stand-in this call started; a no-op for anything it found already running. */
  close(): Promise<void>;
}

/** What answers at `url`/api/version within `timeoutMs`, or null when nothing does. */
export async function probeOllama(url: string, timeoutMs = 1000): Promise<'real' | 'standin' | null> {
  try {
    const response = await fetch(new URL('/api/version', url), { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json().catch(() => null)) as { version?: unknown } | null;
    if (!response.ok || typeof body?.version !== 'string') return null;
    return response.headers.get(STANDIN_HEADER) === '1' ? 'standin' : 'real';
  } catch {
    return null;
  }
}

/** A real Ollama at config.ollama.url if one answers, else the stand-in started there. */
export async function ensureOllama(config: Pick<CutoverConfig, 'ollama'>, log: (line: string) => void = () => {}): Promise<EnsuredOllama> {
  const url = config.ollama.url.replace(/\/+$/, '');
  const found = await probeOllama(url);
  if (found) {
    log(`ollama: using the ${found === 'real' ? 'real Ollama' : 'already running stand-in'} at ${url}`);
    return { url, kind: found, close: async () => {} };
  }
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:') {
    throw new CutoverError('CUTOVER_ERR_CONFIG_INVALID', `OLLAMA_URL ${url} does not answer and the stand-in only serves http://`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port === '' ? 80 : Number(parsed.port);
  const standin = await startOllamaStandin({ host, port, models: [config.ollama.model] });
  log(`ollama: no Ollama answered at ${url}; started the stand-in there (deterministic answers, no model weights)`);
  return { url: standin.url, kind: 'standin', close: () => standin.close() };
}
