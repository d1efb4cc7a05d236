import { loadConfig } from '../../config/load.js';
import { pullModel } from '../../ollama/pull-model.js';
import { PullProgressPrinter } from '../../ollama/pull-progress.js';
import { parseOptions, type Command } from '../command.js';

export const pullModelCommand: Command = {
  name: 'pull-model',
  summary: 'Make sure the narrator model is in the Ollama at OLLAMA_URL: confirmed by /api/tags, else pulled (/api/pull, with progress); with no internet, says how to load a local GGUF file.',
  usage: 'cutover pull-model [--model NAME] [--url OLLAMA_URL]',
  async run(argv) {
    const { values } = parseOptions(argv, { model: { type: 'string' }, url: { type: 'string' } });
    const config = loadConfig();
    const model = values.model ?? config.ollama.model;
    const url = (values.url ?? config.ollama.url).replace(/\/+$/, '');
    const printer = new PullProgressPrinter((text) => process.stdout.write(text), Boolean(process.stdout.isTTY));
    let outcome;
    try {
      outcome = await pullModel(url, model, (line) => printer.line(line));
    } finally {
      printer.done();
    }
    console.log(outcome === 'present' ? `${model} is present in the Ollama at ${url}` : `pulled ${model} into the Ollama at ${url}`);
    return 0;
  },
};
