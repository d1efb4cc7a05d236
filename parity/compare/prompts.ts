/**
 * The narrator's prompts: what legacy and the reimplementation sent to Ollama (or the cloud
 * fallback) for the same requests must be identical — model, prompt, options, in the same
 * order, byte for byte. The narrator's whole job is the prompt; the answer is the LLM's.
 * Reads the Ollama stand-in's log of each side (src/ollama/standin-log.ts).
 */
import type { ReceivedRequest } from '../../src/ollama/standin-log.js';
import type { Difference } from './engine.js';

/** The differences between the two sides' sent prompts; empty when every request is identical. */
export function comparePrompts(legacy: readonly ReceivedRequest[], reimpl: readonly ReceivedRequest[]): Difference[] {
  const out: Difference[] = [];
  if (legacy.length !== reimpl.length) out.push({ path: 'prompts', kind: 'length', legacy: legacy.length, reimpl: reimpl.length, detail: 'a different number of requests reached the LLM' });
  const count = Math.min(legacy.length, reimpl.length);
  for (let i = 0; i < count; i++) {
    const a = legacy[i]!;
    const b = reimpl[i]!;
    const at = `prompts[${i}]`;
    if (a.method !== b.method || a.path !== b.path) out.push({ path: `${at}.path`, kind: 'value', legacy: `${a.method} ${a.path}`, reimpl: `${b.method} ${b.path}` });
    if (a.rawBody.equals(b.rawBody)) continue;
    const first = firstDifference(a.body, b.body);
    out.push({
      path: `${at}.body`,
      kind: 'text',
      legacy: a.body.slice(Math.max(0, first - 40), first + 80),
      reimpl: b.body.slice(Math.max(0, first - 40), first + 80),
      detail: `bodies differ from character ${first}${sameJson(a.json, b.json) ? ' (same JSON value: serialisation differs)' : ''}`,
    });
  }
  return out;
}

function firstDifference(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function sameJson(a: unknown, b: unknown): boolean {
  return a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b);
}
