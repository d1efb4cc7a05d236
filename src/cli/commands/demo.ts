import { loadConfig } from '../../config/load.js';
import { describeStack, startCutoverStack } from '../../platform/cutover-stack.js';
import { demoGateOverrides, runMainJob } from '../../platform/main-job.js';
import { demoConfigOverrides, demoRollout } from '../../platform/cutover-story.js';
import type { Report } from '../../report/report.js';
import { parseOptions, type Command } from '../command.js';
import { CutoverError } from '../../errors.js';
import { parseDuration } from './traffic.js';

const percent = (rate: number | null) => (rate === null ? 'n/a' : `${(rate * 100).toFixed(1)}%`);

function summarize(report: Report): string {
  const observed = report.routes.filter((route) => route.observations > 0);
  const width = Math.max(...observed.map((route) => route.routeId.length), 5);
  const lines = observed.map(
    (route) =>
      `  ${route.routeId.padEnd(width)}  ${String(route.mode ?? '-').padEnd(7)} obs ${String(route.observations).padStart(3)}  matched ${String(route.matched).padStart(3)}  mismatched ${String(route.mismatched).padStart(3)}  ignored ${String(route.ignored).padStart(3)}  errored ${String(route.errored).padStart(3)}  parity ${percent(route.parityRate).padStart(6)}`,
  );
  const { totals } = report;
  const rules = Object.entries(totals.ignoredBy).map(([rule, count]) => `${rule} ${count}`);
  return [
    ...lines,
    `  all routes: ${totals.observations} observations, ${totals.matched} matched, ${totals.mismatched} mismatched, ${totals.ignored} ignored, ${totals.errored} errored; parity ${percent(totals.parityRate)}; ${totals.unknownRequests} unknown requests`,
    ...(rules.length > 0 ? [`  ignored by rule: ${rules.join(', ')}`] : []),
  ].join('\n');
}

export const demoCommand: Command = {
  name: 'demo',
  summary:
    'The main job: the whole stack up on embedded defaults, sync, gateway and narrator routes shadowed against the reimplementation, a GIS export, then a minute of cutover traffic over every catalogued route through the proxy, the parity report written.',
  usage: 'cutover demo [--county benton_wa] [--format GeoJSON] [--traffic-rate 15] [--traffic-duration 60s] [--out reports/<stamp>] [--keep]',
  async run(argv) {
    const { values } = parseOptions(argv, {
      county: { type: 'string', default: 'benton_wa' },
      format: { type: 'string', default: 'GeoJSON' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'traffic-rate': { type: 'string', default: '15' },
      'traffic-duration': { type: 'string', default: '60s' },
    });
    const rate = Number(values['traffic-rate']);
    if (!Number.isFinite(rate) || rate < 0) throw new CutoverError('CUTOVER_ERR_USAGE', `--traffic-rate must be a number of requests per second (0: none); got '${values['traffic-rate']}'`);
    const durationMs = parseDuration(values['traffic-duration']!);
    const log = (line: string) => console.error(line);
    // The rollout controller's pace and budgets lowered for a story of a minute (printed by the story).
    const stack = await startCutoverStack(loadConfig({ overrides: demoConfigOverrides }), log);
    try {
      console.log(`\n${describeStack(stack)}\n`);
      const outcome = await runMainJob(stack, {
        countyId: values.county,
        format: values.format,
        shadow: ['sync.*', 'gateway.*', 'narrator.*'],
        ...(values.out ? { reportDir: values.out } : {}),
        ...(rate > 0 && durationMs > 0 ? { traffic: { rate, durationMs } } : {}),
        story: true,
        log,
      });
      const story = outcome.story!;
      const result = outcome.export.result!;
      console.log(
        [
          `GIS export ${outcome.export.jobId} COMPLETED in ${outcome.export.elapsedMs} ms: ${result.record_count} records, ${result.file_size_kb} KB`,
          `  download:  ${stack.proxy.urls.sync}${result.file_location}`,
          ...outcome.exportFiles.map((file) => `  file:      ${file}`),
          '',
          `parity report of ${outcome.requests} requests through the proxy (sync.*, gateway.* and narrator.* shadowed):`,
          summarize(outcome.report),
          '',
          `readiness gate over this run (thresholds lowered for the demo's size: ${Object.entries(demoGateOverrides).map(([name, value]) => `${name} ${value}`).join(', ')}; \`cutover gate\` judges with the real ones):`,
          ...outcome.gate.routes.map((route) => `  ${route.routeId.padEnd(44)} ${route.verdict}${route.failed.length ? `  (${route.failed.join(', ')})` : ''}`),
          `  overall: ${outcome.gate.verdict}`,
          '',
          'the cutover story (unattended; the audit log has every step: `cutover flags history <route>`):',
          `  ${story.routes.read.routeId}: shadow → READY → rollout ${demoRollout.steps.map((step) => `canary:${step}`).join(' → ')} → reimpl → ${story.finalModes[story.routes.read.routeId]}`,
          `  ${story.routes.faulty.routeId}: shadow → READY → rollout, fault injected by the demo${story.faultAt ? ` at ${story.faultAt.toISOString()}` : ' (never: the rollout did not rise a step)'} (its reimplementation's process killed) → ${story.rollouts.find((rollout) => rollout.routeId === story.routes.faulty.routeId)?.state ?? '?'} → ${story.finalModes[story.routes.faulty.routeId]}; fallbacks to legacy: ${outcome.report.routes.find((route) => route.routeId === story.routes.faulty.routeId)?.fallbacks.count ?? 0}`,
          '',
          `  report:    ${outcome.reportPaths.html}`,
          `             ${outcome.reportPaths.markdown}`,
          `             ${outcome.reportPaths.json}`,
        ].join('\n'),
      );
      if (values.keep) {
        console.log('\n--keep: everything stays up; Ctrl-C stops it.');
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
      }
      return 0;
    } finally {
      await stack.stop();
    }
  },
};
