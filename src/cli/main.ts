/** Entry of the `cutover` CLI: dispatches to one command module per verb. */
import { CutoverError, isCutoverError } from '../errors.js';
import type { Command } from './command.js';
import { commands } from './commands.js';

function help(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const lines = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return ['usage: cutover <command> [options]', '', 'commands:', ...lines, '', 'cutover <command> --help shows its options.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  const command: Command | undefined = commands.find((candidate) => candidate.name === name);
  try {
    if (!command) throw new CutoverError('CUTOVER_ERR_USAGE', `unknown command '${name}'`);
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(`usage: ${command.usage}\n\n${command.summary}`);
      return 0;
    }
    return await command.run(rest);
  } catch (error) {
    if (isCutoverError(error)) {
      console.error(`cutover: ${error.code}: ${error.message}\n  ${error.hint}`);
      return error.code === 'CUTOVER_ERR_USAGE' ? 2 : 1;
    }
    console.error(`cutover: unexpected error: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}
