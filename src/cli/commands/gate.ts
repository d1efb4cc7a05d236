/** `cutover gate`: the readiness verdict of each route (gate/, issue 15); the exit code says it, for CI. */
import { writeFileSync } from 'node:fs';
import { runGate } from '../../../gate/gate.js';
import { PgResourceSampleStore } from '../../../gate/pg-resource-sample-store.js';
import { resourcesOver } from '../../../gate/resource-samples.js';
import { renderGateText } from '../../../gate/render-text.js';
import { gateExitCodes } from '../../../gate/verdict.js';
import { openFlagStore } from '../../../flags/open-flag-store.js';
import { PgObservationStore } from '../../../proxy/observe/pg-observation-store.js';
import { loadConfig } from '../../config/load.js';
import { gateOverridesSchema, type GateOverrides } from '../../config/schema.js';
import { CutoverError } from '../../errors.js';
import { parseOptions, type Command } from '../command.js';
import { parseSince } from './report.js';

/** Command-line flag → threshold it overrides. */
export const thresholdFlags = {
  'min-compared': 'minCompared',
  'max-ignored': 'maxIgnoredShare',
  'min-parity': 'minParity',
  'max-error-rate': 'maxErrorRate',
  'max-p99-ratio': 'maxP99Ratio',
  'min-latency-samples': 'minLatencySamples',
  'target-median-ratio': 'targetMedianRatio',
  confidence: 'confidence',
} as const satisfies Record<string, keyof GateOverrides>;

const usage = [
  'cutover gate [--route GLOB] [--since DURATION|ISO] [--json FILE|-]',
  `       [${Object.keys(thresholdFlags).map((flag) => `--${flag} N`).join('] [')}]`,
  `exit: ${gateExitCodes.READY} every selected route READY, ${gateExitCodes.NOT_READY} one NOT_READY, ${gateExitCodes.INSUFFICIENT_EVIDENCE} one INSUFFICIENT_EVIDENCE (and none NOT_READY), 1 error, 2 usage`,
].join('\n');

/** The threshold flags given, validated like the config's own thresholds. */
export function parseThresholdFlags(values: Record<string, unknown>): GateOverrides {
  const raw: Record<string, number> = {};
  for (const [flag, key] of Object.entries(thresholdFlags)) {
    const text = values[flag];
    if (typeof text !== 'string') continue;
    const number = Number(text);
    if (text.trim() === '' || !Number.isFinite(number)) throw new CutoverError('CUTOVER_ERR_USAGE', `--${flag} must be a number, got '${text}'`);
    raw[key] = number;
  }
  const result = gateOverridesSchema.safeParse(raw);
  if (!result.success) {
    const flagOf = (key: PropertyKey) => Object.entries(thresholdFlags).find(([, name]) => name === key)?.[0] ?? String(key);
    throw new CutoverError('CUTOVER_ERR_USAGE', result.error.issues.map((issue) => `--${flagOf(issue.path[0] ?? '')}: ${issue.message}`).join('; '));
  }
  return result.data;
}

export const gateCommand: Command = {
  name: 'gate',
  summary: 'Judge each route READY, NOT_READY or INSUFFICIENT_EVIDENCE from its observations; the exit code says it.',
  usage,
  async run(argv) {
    const thresholdOptions = Object.fromEntries(Object.keys(thresholdFlags).map((flag) => [flag, { type: 'string' as const }]));
    const { values } = parseOptions(argv, { route: { type: 'string' }, since: { type: 'string' }, json: { type: 'string' }, ...thresholdOptions });
    const overrides = parseThresholdFlags(values);
    const config = loadConfig();
    const now = new Date();
    const since = typeof values.since === 'string' ? parseSince(values.since, now) : new Date(now.getTime() - config.gate.windowHours * 3_600_000);
    const opened = await openFlagStore(config, { log: console.error });
    const observations = new PgObservationStore(opened.url);
    const samples = new PgResourceSampleStore(opened.url);
    try {
      const route = typeof values.route === 'string' ? values.route : undefined;
      if (route !== undefined && !route.includes('*') && !opened.catalogue.byId(route)) {
        throw new CutoverError('CUTOVER_ERR_FLAG_ROUTE_UNKNOWN', `no route '${route}'`);
      }
      const report = await runGate(
        // What the harness sampled of each side's processes over the same window (cutover up, the main job).
        { observations, catalogue: opened.catalogue, thresholds: config.gate.thresholds, flags: () => opened.store.snapshot(), resources: await resourcesOver(samples, opened.catalogue, { since, until: now }) },
        { route, since, now, overrides },
      );
      const json = typeof values.json === 'string' ? values.json : undefined;
      if (json === '-') console.log(JSON.stringify(report, null, 2));
      else {
        console.log(renderGateText(report));
        if (json !== undefined) {
          writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
          console.log(`wrote ${json}`);
        }
      }
      return gateExitCodes[report.verdict];
    } finally {
      await observations.close();
      await samples.close();
      await opened.close();
    }
  },
};
