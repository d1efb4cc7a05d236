/**
 * Making sure the narrator's model is in the Ollama at OLLAMA_URL: /api/tags says whether it is,
 * else /api/pull (streamed, through the ollama npm client) fetches it, reporting each status line.
 * A pull that cannot reach the registry is told apart from other failures, because the answer
 * differs: with no internet the model comes from a local GGUF file through `ollama create`.
 */
import { Ollama, type ProgressResponse } from 'ollama';
import { CutoverError } from '../errors.js';
import { withTag } from './standin-http.js';

export type PullOutcome = 'present' | 'pulled';

export interface PullProgress {
  /** Every progress line Ollama streamed, in order. */
  (line: ProgressResponse): void;
}

// What Go's net/http and Ollama's registry client say when there is no route to the registry.
const NO_NETWORK = /dial tcp|no such host|lookup |network is unreachable|connection refused|i\/o timeout|TLS handshake timeout|context deadline exceeded|temporary failure in name resolution/i;

export function offlineHint(model: string): string {
  return (
    `Without internet, load ${model} from a GGUF file: copy the .gguf to the Ollama machine, write a file named Modelfile ` +
    `holding the line \`FROM /path/to/model.gguf\` (plus the model's TEMPLATE and PARAMETER lines, from \`ollama show --modelfile ${model}\` ` +
    `on a machine that has it), run \`ollama create ${model} -f Modelfile\`, then \`cutover pull-model --model ${model}\` confirms it.`
  );
}

async function listed(client: Ollama, url: string, model: string): Promise<boolean> {
  try {
    const { models } = await client.list();
    return models.some((entry) => withTag(entry.name) === withTag(model) || withTag(entry.model) === withTag(model));
  } catch (error) {
    throw new CutoverError('CUTOVER_ERR_OLLAMA_UNREACHABLE', `no Ollama answers at ${url} (${(error as Error).message})`, { cause: error });
  }
}

/** Confirms the model is present, or pulls it; throws CUTOVER_ERR_OLLAMA_UNREACHABLE / _MODEL_PULL_OFFLINE / _MODEL_PULL_FAILED. */
export async function pullModel(url: string, model: string, onProgress: PullProgress): Promise<PullOutcome> {
  const client = new Ollama({ host: url });
  if (await listed(client, url, model)) return 'present';
  try {
    const stream = await client.pull({ model, stream: true });
    for await (const line of stream) onProgress(line);
  } catch (error) {
    const message = (error as Error).message;
    if (NO_NETWORK.test(message)) {
      throw new CutoverError('CUTOVER_ERR_MODEL_PULL_OFFLINE', `the Ollama at ${url} cannot reach its registry to pull ${model}: ${message}. ${offlineHint(model)}`, { cause: error });
    }
    throw new CutoverError('CUTOVER_ERR_MODEL_PULL_FAILED', `the Ollama at ${url} could not pull ${model}: ${message}`, { cause: error });
  }
  if (!(await listed(client, url, model))) throw new CutoverError('CUTOVER_ERR_MODEL_PULL_FAILED', `the Ollama at ${url} said the pull of ${model} succeeded, but /api/tags does not list it`);
  return 'pulled';
}
