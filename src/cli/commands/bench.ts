import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult } from '../../../bench/bench-report.js';
import { formatBench, meetsTarget } from '../../../bench/bench-report.js';
import { CutoverError } from '../../errors.js';
import { repoRoot } from '../../platform/paths.js';
import { parseOptions, type Command } from '../command.js';

/** Every benchmark of `npm run bench`: a module under bench/ and the function it exports. */
const suites: ReadonlyArray<{ name: string; file: string; exported: string }> = [
  { name: 'proxy', file: 'bench/proxy.ts', exported: 'runProxyBench' },
  { name: 'sync', file: 'bench/sync.ts', exported: 'runSyncBench' },
  { name: 'gis-export', file: 'bench/gis-export.ts', exported: 'runGisExportBench' },
  { name: 'gateway', file: 'bench/gateway.ts', exported: 'runGatewayBench' },
  { name: 'narrator', file: 'bench/narrator.ts', exported: 'runNarratorBench' },
  { name: 'observations', file: 'bench/observations.ts', exported: 'runObservationsBench' },
];

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Run the benchmarks (legacy vs reimplementation, nginx vs proxy) side by side in one run and print ratios.',
  usage: `cutover bench [--only ${suites.map((suite) => suite.name).join(',')}] [--json FILE]`,
  async run(argv) {
    const { values } = parseOptions(argv, { only: { type: 'string' }, json: { type: 'string' } });
    const wanted = values.only ? values.only.split(',').map((name) => name.trim()) : suites.map((suite) => suite.name);
    const unknown = wanted.filter((name) => !suites.some((suite) => suite.name === name));
    if (unknown.length) throw new CutoverError('CUTOVER_ERR_USAGE', `unknown benchmark(s): ${unknown.join(', ')}`);
    const results: BenchResult[] = [];
    for (const suite of suites.filter((candidate) => wanted.includes(candidate.name))) {
      const path = join(repoRoot, suite.file);
      if (!existsSync(path)) {
        console.error(`bench ${suite.name}: ${suite.file} is not there yet; skipped`);
        continue;
      }
      console.error(`bench ${suite.name}: running...`);
      const module = (await import(path)) as Record<string, () => Promise<BenchResult>>;
      const run = module[suite.exported];
      if (typeof run !== 'function') throw new CutoverError('CUTOVER_ERR_USAGE', `${suite.file} does not export ${suite.exported}()`);
      const result = await run();
      results.push(result);
      console.log(`${formatBench(result)}\n`);
    }
    if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
    const missed = results.flatMap((result) => result.rows.filter((row) => meetsTarget(row) === false).map((row) => `${result.name}: ${row.metric}`));
    if (missed.length) console.log(`targets not met:\n  ${missed.join('\n  ')}`);
    return 0;
  },
};
