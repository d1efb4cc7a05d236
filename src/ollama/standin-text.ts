/**
 * What the Ollama stand-in "generates": plausible property-assessment prose, chosen
 * deterministically from the model, the prompt (or chat messages) and the options, so that
 * the same request always yields the same tokens and two callers sending the same request
 * get byte-identical answers — also when their prompts differ only in per-run values
 * (uuids, date-times; standin-seed.ts). No model weights exist on this machine; this is the stand-in.
 */
import { createHash } from 'node:crypto';
import { promptContent } from './standin-seed.js';

/** Everything that determines a completion; nothing else (no clock, no randomness, no per-run value in the prompt) does. */
export interface CompletionInput {
  model: string;
  /** The prompt of /api/generate, or the chat messages of /api/chat flattened to text. */
  prompt: string;
  system?: string;
  options?: Record<string, unknown>;
}

export interface Completion {
  /** The tokens as they are streamed: the first bare, the rest with their leading space or newline. */
  tokens: string[];
  /** 'stop' when the text ended by itself, 'length' when num_predict cut it short. */
  doneReason: 'stop' | 'length';
  promptEvalCount: number;
  /** Pseudo token ids of prompt and answer, what /api/generate returns as `context`. */
  context: number[];
}

const SENTENCES = [
  'The parcel is assessed consistently with comparable properties in its neighborhood.',
  'Recent qualified sales support the current land value within a narrow range.',
  'The improvement value reflects the reported building area and an effective age adjustment.',
  'No physical changes were reported since the prior assessment cycle.',
  'The assessed total value moved in line with the county-wide residential trend.',
  'Zoning permits the current use, so the highest and best use is its present use.',
  'Market evidence from the last twenty-four months was adjusted for time of sale.',
  'The sales ratio for this stratum stays within the range the state standards accept.',
  'Land is valued by the front-foot method used for similar lots on the same road segment.',
  'Depreciation follows the cost schedule for the property class and year built.',
  'An appeal would need evidence of sales that contradict the comparable set used here.',
  'The export covers the requested area of interest and the layers selected by the user.',
  'Record counts match the features that intersect the requested boundary.',
  'Geometry was simplified within the county tolerance before it was reprojected.',
  'Agricultural parcels are valued on current use rather than on market value.',
  'Commercial properties were cross-checked against the income approach where rents were known.',
  'The coefficient of dispersion indicates uniform assessments across the neighborhood.',
  'Values are stated as of January first of the assessment year.',
  'Exemptions on record reduce the taxable value but not the assessed value.',
  'Outliers among the sales were excluded because they were not arm\'s-length transactions.',
  'Building permits issued during the year were reviewed for new construction value.',
  'The job finished without errors and its file is ready for download.',
  'A field review is recommended where the land-to-building ratio is unusual.',
  'Overall, the assessment is well supported by the available market data.',
];

const CATEGORIES = ['Residential', 'Commercial', 'Agricultural', 'Industrial', 'Vacant Land', 'Exempt'];

/** Stable key order, so option objects that differ only in key order hash the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** mulberry32: tiny, fast, and the same sequence on every platform for a given seed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tokenId(word: string): number {
  return createHash('sha1').update(word).digest().readUInt32BE(0) % 128256;
}

/** Categories named by the prompt ("Categories: a, b, c" or "one of: a, b, c"), else the default list. */
function categoriesOf(prompt: string): string[] {
  const match = /(?:categories|one of)\s*(?:are)?\s*[:\-]\s*([^\n]+)/i.exec(prompt);
  if (!match) return CATEGORIES;
  const named = match[1]!
    .split(/,|\bor\b|\|/)
    .map((item) => item.trim().replace(/^[\s"'`*]+|[\s"'`.*]+$/g, ''))
    .filter((item) => item.length > 0 && item.length < 40);
  return named.length >= 2 ? named : CATEGORIES;
}

/** Whitespace travels with the word after it, the way real tokenizers stream " word"; joined back they give the text. */
function splitTokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** The deterministic completion for one request. */
export function complete(input: CompletionInput): Completion {
  const options = input.options ?? {};
  const digest = createHash('sha256')
    .update(canonical({ model: input.model, prompt: promptContent(input.prompt), system: promptContent(input.system ?? ''), options }))
    .digest();
  const random = generator(digest.readUInt32BE(0));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

  const lines: string[] = [];
  if (/\bclassif|\bcategor/i.test(input.prompt)) {
    lines.push(pick(categoriesOf(input.prompt)));
    lines.push(`Rationale: ${pick(SENTENCES)}`);
  } else {
    const count = 3 + Math.floor(random() * 4);
    const used = new Set<number>();
    const sentences: string[] = [];
    while (sentences.length < count) {
      const index = Math.floor(random() * SENTENCES.length);
      if (used.has(index)) continue;
      used.add(index);
      sentences.push(SENTENCES[index]!);
    }
    lines.push(sentences.join(' '));
  }
  let tokens = splitTokens(lines.join('\n'));

  const numPredict = typeof options.num_predict === 'number' ? options.num_predict : -1;
  let doneReason: Completion['doneReason'] = 'stop';
  if (numPredict >= 0 && tokens.length > numPredict) {
    tokens = tokens.slice(0, numPredict);
    doneReason = 'length';
  }
  const promptWords = `${input.system ?? ''} ${input.prompt}`.split(/\s+/).filter(Boolean);
  return {
    tokens,
    doneReason,
    promptEvalCount: promptWords.length,
    context: [...promptWords, ...tokens].map((word) => tokenId(word.trim())),
  };
}
