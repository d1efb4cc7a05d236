import { loadConfig } from '../../config/load.js';
import { describeStack, startCutoverStack } from '../../platform/cutover-stack.js';
import { parseOptions, type Command } from '../command.js';

export const upCommand: Command = {
  name: 'up',
  summary:
    'Start everything: PostgreSQL, migrations, seed when empty, Ollama or its stand-in, the legacy services, the reimplementations beside them, the shadow instances, and the proxy with its admin API; Ctrl-C stops it all.',
  usage: 'cutover up',
  async run(argv) {
    parseOptions(argv, {});
    const stack = await startCutoverStack(loadConfig(), (line) => console.error(line));
    console.log(`\n${describeStack(stack)}\n\nTerraFusion is up behind the cutover proxy; every route follows its flag (cutover flags list). Ctrl-C stops everything.`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    console.error('stopping...');
    await stack.stop();
    return 0;
  },
};
