/** The CLI's command table. Each command lives in its own module under ./commands/. */
import type { Command } from './command.js';
import { benchCommand } from './commands/bench.js';
import { calibrateCommand } from './commands/calibrate.js';
import { demoCommand } from './commands/demo.js';
import { flagsCommand } from './commands/flags.js';
import { fuzzCommand } from './commands/fuzz.js';
import { gateCommand } from './commands/gate.js';
import { migrateCommand } from './commands/migrate.js';
import { observationsCommand } from './commands/observations.js';
import { ollamaStandinCommand } from './commands/ollama.js';
import { recordCommand } from './commands/record.js';
import { replayCommand } from './commands/replay.js';
import { reportCommand } from './commands/report.js';
import { rolloutCommand } from './commands/rollout.js';
import { seedCommand } from './commands/seed.js';
import { proxyCommand } from './commands/proxy.js';
import { upCommand } from './commands/up.js';
import { initCountyCommand } from './commands/init-county.js';
import { pullModelCommand } from './commands/pull-model.js';
import { trafficCommand } from './commands/traffic.js';
import { scaffoldCommand } from './commands/scaffold.js';
import { bundleCommand } from './commands/bundle.js';

export const commands: Command[] = [upCommand, proxyCommand, demoCommand, seedCommand, migrateCommand, flagsCommand, reportCommand, observationsCommand, gateCommand, rolloutCommand, benchCommand, ollamaStandinCommand, recordCommand, replayCommand, fuzzCommand, calibrateCommand, initCountyCommand, pullModelCommand, trafficCommand, scaffoldCommand, bundleCommand];
