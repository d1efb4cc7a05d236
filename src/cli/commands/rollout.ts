/** `cutover rollout`: progressive rollouts with automatic rollback (rollout/, issue 15); the proxy's controller runs them. */
import { loadConfig } from '../../config/load.js';
import { CutoverError } from '../../errors.js';
import { openFlagStore } from '../../../flags/open-flag-store.js';
import { gatePromotionGuard } from '../../../gate/promotion-guard.js';
import { formatDuration } from '../../../gate/render-text.js';
import { PgObservationStore } from '../../../proxy/observe/pg-observation-store.js';
import { PgRolloutStore } from '../../../rollout/pg-rollout-store.js';
import type { Rollout } from '../../../rollout/rollout.js';
import { abortRollout, pauseRollout, resumeRollout, startRollout } from '../../../rollout/rollout-service.js';
import { parseOptions, type Command } from '../command.js';
import { defaultActor } from './flags.js';

const usage = [
  'cutover rollout start <route|glob> [--steps 1,5,25,50,100] [--step-duration 10m] [--checks N] --reason "..." [--actor NAME] [--force]',
  '       cutover rollout status [route] [--json]',
  '       cutover rollout pause|resume <route|glob> [--reason "..."]',
  '       cutover rollout abort <route|glob> --reason "..." [--actor NAME]',
].join('\n');

const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** `--step-duration` as milliseconds: `90s`, `10m`, `1h`. */
export function parseDuration(raw: string): number {
  const match = /^(\d+)([smh])$/.exec(raw);
  if (!match || Number(match[1]) === 0) throw new CutoverError('CUTOVER_ERR_ROLLOUT_INVALID', `--step-duration must be like 90s, 10m or 1h, got '${raw}'`);
  return Number(match[1]) * units[match[2]!]!;
}

function statusLine(rollout: Rollout): string {
  const step = `step ${rollout.stepIndex + 1}/${rollout.steps.length} (canary:${rollout.steps[rollout.stepIndex]})`;
  const analysis = rollout.lastAnalysis ? `; last check ${rollout.lastAnalysis.at}: ${rollout.lastAnalysis.result}, ${rollout.lastAnalysis.why}` : '; not checked yet';
  return `${rollout.routeId}  ${rollout.state}  ${step}, steps ${rollout.steps.join(',')} of ${formatDuration(rollout.stepDurationMs)}, ${rollout.breaches}/${rollout.checks} breaches${analysis}`;
}

export const rolloutCommand: Command = {
  name: 'rollout',
  summary: 'Roll a route out step by step (canary percentages), rolled back automatically when a budget is breached.',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      { steps: { type: 'string' }, 'step-duration': { type: 'string' }, checks: { type: 'string' }, reason: { type: 'string' }, actor: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
      true,
    );
    const [verb, target] = positionals;
    if (!verb || !['start', 'status', 'pause', 'resume', 'abort'].includes(verb)) throw new CutoverError('CUTOVER_ERR_USAGE', `rollout needs one of start, status, pause, resume, abort; usage: ${usage}`);
    if (verb !== 'status' && !target) throw new CutoverError('CUTOVER_ERR_USAGE', `rollout ${verb} needs a route or glob; usage: ${usage}`);
    const config = loadConfig();
    const steps = values.steps === undefined ? config.rollout.steps : values.steps.split(',').map((step) => Number(step.trim()));
    const stepDurationMs = values['step-duration'] === undefined ? config.rollout.stepDurationMs : parseDuration(values['step-duration']);
    const checks = values.checks === undefined ? config.rollout.checks : Number(values.checks);
    const actor = values.actor ?? defaultActor();
    if ((verb === 'start' || verb === 'abort') && !values.reason?.trim()) throw new CutoverError('CUTOVER_ERR_FLAG_REASON_REQUIRED', `rollout ${verb} was refused: no --reason given`);

    const opened = await openFlagStore(config, { log: console.error });
    const rollouts = new PgRolloutStore(opened.url);
    const observations = new PgObservationStore(opened.url);
    const guard = gatePromotionGuard({ observations, catalogue: opened.catalogue, thresholds: config.gate.thresholds }, config.gate.windowHours);
    const parts = { rollouts, flags: opened.store, catalogue: opened.catalogue, guard };
    const now = new Date();
    try {
      switch (verb) {
        case 'start': {
          const { started, forced } = await startRollout(parts, { pattern: target!, steps, stepDurationMs, checks, reason: values.reason!, actor, force: values.force === true, now });
          for (const refusal of forced) console.log(`FORCED past the readiness gate: ${refusal.routeId} is ${refusal.verdict} (${refusal.failed.join(', ')}); the audit log records it`);
          console.log(started.map(statusLine).join('\n'));
          console.log('the proxy\'s rollout controller checks it every', formatDuration(config.rollout.checkIntervalMs));
          return 0;
        }
        case 'status': {
          const list = await rollouts.list(target);
          if (values.json) console.log(JSON.stringify(list, null, 2));
          else console.log(list.length ? list.map(statusLine).join('\n') : 'no rollouts');
          return 0;
        }
        case 'pause':
          console.log((await pauseRollout(parts, target!, now)).map(statusLine).join('\n'));
          return 0;
        case 'resume':
          console.log((await resumeRollout(parts, target!, now)).map(statusLine).join('\n'));
          return 0;
        default:
          console.log((await abortRollout(parts, target!, { actor, reason: values.reason! }, now)).map(statusLine).join('\n'));
          return 0;
      }
    } finally {
      await Promise.allSettled([rollouts.close(), observations.close()]);
      await opened.close();
    }
  },
};
