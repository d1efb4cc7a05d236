/** What a CLI command is: a name, a one-line summary, a usage and a function returning an exit code. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CutoverError } from '../errors.js';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** node:util parseArgs, with unknown options turned into CUTOVER_ERR_USAGE. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new CutoverError('CUTOVER_ERR_USAGE', (error as Error).message);
  }
}
