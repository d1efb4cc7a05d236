/**
 * The narrator's prompts as the contract fixes them (legacy/terrafusion_narrator/prompts.py),
 * written out independently so the suite checks any narrator — legacy or reimplemented — against
 * the contract rather than against its own code. The Ollama body is compared byte for byte.
 */
import { pyFloat, pythonJsonDumps } from './python-json.js';

const PREAMBLE = "You are TerraFusion Narrator, an assistant to a county property assessor's office.";
export const CATEGORIES = ['Residential', 'Commercial', 'Agricultural', 'Industrial', 'Vacant Land', 'Exempt'];

export type TextTask = 'summarize' | 'classify' | 'explain';

const instructions: Record<TextTask, [string, string]> = {
  summarize: [
    'Summarize the following text in three to five sentences of plain language for a property owner. Keep every value, date and parcel number that matters, and do not invent facts.',
    'Summary:',
  ],
  classify: [
    `Classify the following text into exactly one of these categories: ${CATEGORIES.join(', ')}.\nAnswer with the category name alone on the first line, then one sentence that explains the choice.`,
    'Category:',
  ],
  explain: [
    'Explain the following assessment text to a property owner who is not an appraiser. Define any technical terms, say why the value is what it is, and mention what the owner can do if they disagree.',
    'Explanation:',
  ],
};

export function textPrompt(task: TextTask, text: string): string {
  const [instruction, cue] = instructions[task];
  return `${PREAMBLE}\n${instruction}\n\nText:\n${text}\n\n${cue}`;
}

export const CANNED: Record<TextTask, string> = {
  summarize:
    'An AI summary is not available right now because the language model could not be reached. The original text is unchanged and can be reviewed as submitted.',
  classify: 'Unclassified',
  explain:
    "An AI explanation is not available right now because the language model could not be reached. Please contact the assessor's office for an explanation of this assessment.",
};

const field = (value: unknown) => (value === null || value === undefined || value === '' ? 'n/a' : String(value));

/** The GIS export prompt for a sync StatusResponse and, once COMPLETED, its `result`. */
export function gisExportPrompt(job: Record<string, any>, result?: Record<string, any> | null): string {
  const layers = job.parameters?.layers;
  return [
    PREAMBLE,
    'Write a short plain-language report on the GIS export job below for the staff member who requested it: what was exported, its current status, and anything that needs attention.',
    '',
    `Job ID: ${field(job.job_id)}`,
    `County: ${field(job.county_id)}`,
    `Format: ${field(job.export_format)}`,
    `Status: ${field(job.status)}`,
    `Message: ${field(job.message)}`,
    `Layers: ${Array.isArray(layers) && layers.length > 0 ? layers.join(', ') : 'n/a'}`,
    `Created at: ${field(job.created_at)}`,
    `Completed at: ${field(job.completed_at)}`,
    `Records exported: ${field(result?.record_count)}`,
    `File size (KB): ${field(result?.file_size_kb)}`,
    '',
    'Report:',
  ].join('\n');
}

/** The exact bytes the narrator must POST to Ollama's /api/generate. */
export function ollamaBody(model: string, prompt: string, maxTokens: number, temperature: number): string {
  return pythonJsonDumps({
    model,
    prompt,
    stream: false,
    options: { num_predict: maxTokens, temperature: pyFloat(temperature), top_k: 40, top_p: pyFloat(0.9) },
  });
}
