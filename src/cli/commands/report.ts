/** `cutover report`: writes the parity report of the observations (src/report/, issue 6). */
import { openFlagStore } from '../../../flags/open-flag-store.js';
import { readinessSummary, runGate } from '../../../gate/gate.js';
import { PgResourceSampleStore } from '../../../gate/pg-resource-sample-store.js';
import { resourcesOver } from '../../../gate/resource-samples.js';
import { sharedTallies } from '../../../proxy/observe/observation-tallies.js';
import { PgObservationStore } from '../../../proxy/observe/pg-observation-store.js';
import { PgNoiseStore } from '../../../parity/runner/noise-store.js';
import { loadConfig } from '../../config/load.js';
import { CutoverError } from '../../errors.js';
import { PgUnknownTrafficStore } from '../../report/unknown-traffic.js';
import { createStorageRedactor } from '../../../parity/compare/redact.js';
import { collectReport, writeReport } from '../../report/write-report.js';
import { parseOptions, type Command } from '../command.js';

const units: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since` as an instant: an ISO date/time, or a duration back from now (`30m`, `6h`, `7d`). */
export function parseSince(raw: string, now = new Date()): Date {
  const duration = /^(\d+)([mhd])$/.exec(raw);
  if (duration) return new Date(now.getTime() - Number(duration[1]) * units[duration[2]!]!);
  const at = new Date(raw);
  if (Number.isNaN(at.getTime())) throw new CutoverError('CUTOVER_ERR_USAGE', `--since must be an ISO date/time or a duration like 30m, 6h, 7d; got '${raw}'`);
  return at;
}

export const reportStamp = (now: Date) => now.toISOString().replace(/[:.]/g, '-');

export const reportCommand: Command = {
  name: 'report',
  summary: 'Write the parity report (report.json, report.md, report.html) from the shadow observations.',
  usage: 'cutover report [--since ISO|30m|6h|7d] [--out reports/<stamp>] [--all]',
  async run(argv) {
    const { values } = parseOptions(argv, { since: { type: 'string' }, out: { type: 'string' }, all: { type: 'boolean' } });
    const now = new Date();
    const since = values.since === undefined ? undefined : parseSince(values.since, now);
    const config = loadConfig();
    const opened = await openFlagStore(config, { log: console.error });
    const observations = new PgObservationStore(opened.url);
    // The report and its gate over the same window read the tallies once.
    const tallied = sharedTallies(observations);
    const unknownTraffic = new PgUnknownTrafficStore(opened.url);
    try {
      const report = await collectReport(
        {
          observations: tallied,
          unknownTraffic,
          catalogue: opened.catalogue,
          flags: () => opened.store.snapshot(),
          redactor: createStorageRedactor(config.redaction.piiFields),
          timeouts: { upstreamTimeoutMs: config.proxy.upstreamTimeoutMs, shadowTimeoutMs: config.proxy.shadow.timeoutMs },
          // The report opens with the gate's verdicts over its window (the gate's default window when the report has none).
          readiness: async (from) => {
            const gateSince = from ?? new Date(now.getTime() - config.gate.windowHours * 3_600_000);
            const samples = new PgResourceSampleStore(opened.url);
            const resources = await resourcesOver(samples, opened.catalogue, { since: gateSince, until: now }).finally(() => samples.close());
            const gate = await runGate({ observations: tallied, catalogue: opened.catalogue, thresholds: config.gate.thresholds, flags: () => opened.store.snapshot(), resources }, { since: gateSince, now });
            return readinessSummary(gate);
          },
        },
        { since, now, include: values.all ? 'all' : 'observed' },
      );
      // Learned noise is shown when calibrations exist; a database without the table just has none.
      const noise = new PgNoiseStore(opened.url);
      const learnedNoise = await noise.list().catch(() => []).finally(() => noise.close());
      const paths = writeReport(report, values.out ?? `reports/${reportStamp(now)}`, learnedNoise);
      const { totals } = report;
      console.log(`${totals.observations} observations over ${report.routes.length} routes, parity ${totals.parityRate === null ? 'n/a' : `${(totals.parityRate * 100).toFixed(1)}%`}, ${totals.unknownRequests} unknown requests`);
      if (report.readiness) console.log(`readiness: ${report.readiness.verdict} (${report.readiness.routes.map((route) => `${route.routeId} ${route.verdict}`).join(', ') || 'no route judged'})`);
      console.log(`wrote ${paths.json}\nwrote ${paths.markdown}\nwrote ${paths.html}`);
      return 0;
    } finally {
      await Promise.allSettled([observations.close(), unknownTraffic.close()]);
      await opened.close();
    }
  },
};
