import { loadConfig } from '../../config/load.js';
import { CutoverError } from '../../errors.js';
import { startOllamaStandin } from '../../ollama/standin-server.js';
import { parseOptions, type Command } from '../command.js';

export const ollamaStandinCommand: Command = {
  name: 'ollama-standin',
  summary: 'Run the deterministic Ollama stand-in in the foreground (no model weights needed).',
  usage: 'cutover ollama-standin [--host H] [--port N] [--model NAME ...]',
  async run(argv) {
    const { values } = parseOptions(argv, {
      host: { type: 'string' },
      port: { type: 'string' },
      model: { type: 'string', multiple: true },
    });
    const config = loadConfig();
    const fromUrl = new URL(config.ollama.url);
    const port = values.port === undefined ? Number(fromUrl.port || 80) : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CutoverError('CUTOVER_ERR_USAGE', `--port ${values.port} is not a port number`);
    const standin = await startOllamaStandin({
      host: values.host ?? fromUrl.hostname,
      port,
      models: values.model ?? ['llama3.2', 'llama3.2:latest', config.ollama.model],
    });
    console.log(`ollama stand-in listening on ${standin.url} (GET /_standin/received, PUT /_standin/faults); Ctrl-C stops it`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await standin.close();
    return 0;
  },
};
