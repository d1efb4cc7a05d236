/**
 * The fallback chain: Ollama, then the cloud (only with ENABLE_CLOUD_AI and OPENAI_API_KEY),
 * then the canned answer. Reproduces legacy/terrafusion_narrator/narration.py; outcomes are
 * ai_jobs_total's `status`: success, cloud_fallback, template_fallback (and error: every link
 * failed, NarrationFailed, answered 503).
 */
import { cloudGenerate, ModelUnavailable, ollamaGenerate } from './models.js';
import type { NarratorSettings } from './settings.js';

export const TEMPLATE_MODEL = 'template-fallback';

export interface Narration {
  result: string;
  modelUsed: string;
  status: 'success' | 'cloud_fallback' | 'template_fallback';
  fallbackSource?: 'cloud' | 'template';
}

/** Every link of the chain failed; the message lists why (`ollama: ...; cloud: ...`). */
export class NarrationFailed extends Error {}

// Python's str.strip(): whitespace at both ends.
const strip = (text: string) => text.trim();

/** Runs the chain for one prompt; `canned` is the template answer of the last link. */
export async function narrate(settings: NarratorSettings, prompt: string, canned: string, model: string, maxTokens: number, temperature: number): Promise<Narration> {
  const reasons: string[] = [];
  try {
    return { result: strip(await ollamaGenerate(settings, model, prompt, maxTokens, temperature)), modelUsed: model, status: 'success' };
  } catch (error) {
    if (!(error instanceof ModelUnavailable)) throw error;
    reasons.push(`ollama: ${error.message}`);
  }
  if (settings.enableCloudAi && settings.openaiApiKey) {
    try {
      const text = strip(await cloudGenerate(settings, prompt, maxTokens, temperature));
      return { result: text, modelUsed: settings.openaiModel, status: 'cloud_fallback', fallbackSource: 'cloud' };
    } catch (error) {
      if (!(error instanceof ModelUnavailable)) throw error;
      reasons.push(`cloud: ${error.message}`);
    }
  }
  if (settings.enableTemplateFallback) return { result: canned, modelUsed: TEMPLATE_MODEL, status: 'template_fallback', fallbackSource: 'template' };
  throw new NarrationFailed(reasons.join('; '));
}
