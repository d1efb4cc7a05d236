/** `cutover replay`: golden fixtures sent again to legacy or the reimplementation and compared (parity/runner/replay.ts). */
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import { defaultFixturesDir } from '../../../parity/runner/fixture.js';
import { RunProgress } from '../../../parity/runner/progress.js';
import { createRedactor } from '../../../parity/compare/redact.js';
import { checkUpdateMode, runReplay, type ReplayTarget } from '../../../parity/runner/replay.js';
import { startGoldenPlatform } from '../../../parity/runner/record-golden.js';
import { loadConfig } from '../../config/load.js';
import type { CutoverConfig, Endpoint } from '../../config/schema.js';
import { CutoverError } from '../../errors.js';
import { parseOptions, type Command } from '../command.js';

const url = (endpoint: Endpoint) => `http://${endpoint.host}:${endpoint.port}`;

/** Where each side listens, from the config (`cutover up` starts both on these ports). */
export function configuredTarget(config: CutoverConfig, side: string): ReplayTarget {
  if (side === 'legacy') return { name: 'legacy', urls: { gateway: url(config.legacy.gateway), sync: url(config.legacy.sync), narrator: url(config.legacy.narrator) } };
  if (side === 'reimpl') {
    return {
      name: 'reimpl',
      urls: { gateway: url(config.reimpl.gateway), sync: url(config.reimpl.sync), narrator: url(config.reimpl.narrator) },
      upstreams: { gisExport: url(config.reimpl.gisExport) },
    };
  }
  throw new CutoverError('CUTOVER_ERR_USAGE', `--target must be legacy or reimpl; got '${side}'`);
}

export const replayCommand: Command = {
  name: 'replay',
  summary: 'Replay the golden fixtures against legacy or the reimplementation and compare; non-zero exit when mismatches remain.',
  usage: 'cutover replay [--target legacy|reimpl] [--isolated] [--route GLOB]... [--update none|new|all] [--fixtures DIR] [--json FILE|-]',
  async run(argv) {
    const { values } = parseOptions(argv, {
      target: { type: 'string', default: 'legacy' },
      route: { type: 'string', multiple: true },
      update: { type: 'string', default: 'none' },
      fixtures: { type: 'string' },
      json: { type: 'string' },
      isolated: { type: 'boolean', default: false },
    });
    // Refused before anything runs: CI never rewrites goldens.
    const update = checkUpdateMode(values.update, process.env);
    const config = loadConfig();
    configuredTarget(config, values.target!);
    // --isolated: a platform of the target seeded as the fixtures were recorded, on its own database and ephemeral ports, stopped after.
    const golden = values.isolated ? await startGoldenPlatform(values.target as 'legacy' | 'reimpl', (line) => console.error(line)) : undefined;
    try {
      const target = golden?.target ?? configuredTarget(config, values.target!);
      const progress = new RunProgress({ title: `replay against ${target.name}${golden ? ' (isolated)' : ''}`, json: values.json, failOn: ['mismatched', 'errored', 'missing'] });
      await runReplay({
        dir: values.fixtures ?? config.fixtures.dir ?? defaultFixturesDir,
        catalogue: loadRouteCatalogue(),
        target,
        redactor: createRedactor(config.redaction.piiFields),
        passwords: config.fixtures.replayPasswords,
        update,
        routes: values.route ?? [],
        progress,
      });
      return progress.finish({ target: target.name, update, isolated: golden !== undefined }).exitCode;
    } finally {
      await golden?.stop();
    }
  },
};
