/** Questions asked on a terminal: plain answers, and passwords read without echo. */
import { createInterface } from 'node:readline';

export interface Prompter {
  ask(question: string): Promise<string>;
  askHidden(question: string): Promise<string>;
}

function question(text: string, hidden: boolean): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (hidden) {
    // readline echoes every key through _writeToOutput; keep the question, drop the keys.
    const internal = rl as unknown as { _writeToOutput(chunk: string): void };
    const write = internal._writeToOutput.bind(rl);
    internal._writeToOutput = (chunk: string) => write(chunk.startsWith(text) ? text : chunk === '\r\n' || chunk === '\n' ? chunk : '');
  }
  return new Promise((resolve) =>
    rl.question(text, (answer) => {
      rl.close();
      if (hidden) process.stdout.write('\n');
      resolve(answer.trim());
    }),
  );
}

/** The process's terminal, or undefined when stdin or stdout is not one (then nothing is asked). */
export function terminalPrompter(): Prompter | undefined {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return undefined;
  return { ask: (text) => question(text, false), askHidden: (text) => question(text, true) };
}
