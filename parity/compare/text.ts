/**
 * Narrator text. Answers are compared as the route says: exactly, after normalising what a
 * reader does not see (case, Unicode form, runs of whitespace, space before punctuation), or
 * by token similarity above a threshold (an LLM answer reworded the same). The prompts sent to
 * Ollama are compared separately and must be identical: the narrator's only job is the prompt.
 */
import type { PathRule } from './rules.js';

export type TextRule = Extract<PathRule, { as: 'text' }>;

/** What a reader sees of a text: Unicode NFKC, lower case, single spaces, no space before punctuation. */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').replace(/ ([.,;:!?])/g, '$1').trim();
}

function tokens(text: string): string[] {
  return normaliseText(text).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Dice coefficient of the two texts' word multisets: 1 for the same words, 0 for none shared. */
export function textSimilarity(a: string, b: string): number {
  const left = tokens(a);
  const right = tokens(b);
  if (left.length === 0 && right.length === 0) return 1;
  const counts = new Map<string, number>();
  for (const token of left) counts.set(token, (counts.get(token) ?? 0) + 1);
  let shared = 0;
  for (const token of right) {
    const count = counts.get(token) ?? 0;
    if (count > 0) {
      shared++;
      counts.set(token, count - 1);
    }
  }
  return (2 * shared) / (left.length + right.length);
}

/** Undefined when the texts are equal under the rule; otherwise why not. */
export function compareTexts(legacy: string, reimpl: string, rule: Pick<TextRule, 'mode' | 'threshold'>): string | undefined {
  if (legacy === reimpl) return undefined;
  if (rule.mode === 'exact') return 'texts differ';
  if (normaliseText(legacy) === normaliseText(reimpl)) return undefined;
  if (rule.mode === 'normalised') return 'texts differ after normalising case and whitespace';
  const similarity = textSimilarity(legacy, reimpl);
  return similarity >= rule.threshold ? undefined : `similarity ${similarity.toFixed(3)} below ${rule.threshold}`;
}
