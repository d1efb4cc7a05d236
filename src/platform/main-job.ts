/**
 * The main job, as a migration engineer would run it on day one: with the whole stack up,
 * shadow the sync, gateway and narrator routes against the TypeScript reimplementation, drive
 * real traffic through the proxy (a GIS export end to end, reads, the job plugins, the
 * narrator, then `cutover traffic` over every catalogued route), and write the parity report.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FlagMode } from '../../flags/flag.js';
import { reportStamp } from '../cli/commands/report.js';
import { CutoverError } from '../errors.js';
import type { Report } from '../report/report.js';
import { createStorageRedactor } from '../../parity/compare/redact.js';
import { collectReport, writeReport } from '../report/write-report.js';
import { readinessSummary, runGate, type GateReport } from '../../gate/gate.js';
import { resourcesOver } from '../../gate/resource-samples.js';
import type { GateOverrides } from '../config/schema.js';
import type { CutoverStack } from './cutover-stack.js';
import { runCutoverStory, type StoryOutcome } from './cutover-story.js';
import { PgRolloutStore } from '../../rollout/pg-rollout-store.js';
import { centralAreaOfInterest, loginForToken, runGisExport, type ExportOutcome } from './gis-export-client.js';
import { defaultFixturesDir } from '../../parity/runner/fixture.js';
import { runTraffic, type TrafficSummary } from '../../parity/runner/traffic.js';

export interface MainJobOptions {
  countyId: string;
  format: string;
  /** Route globs put in shadow mode before the traffic. */
  shadow: readonly string[];
  reportDir?: string;
  log: (line: string) => void;
  /** `cutover traffic` after the scripted requests: this rate (requests/s) for this long; absent, none. */
  traffic?: { rate: number; durationMs: number };
  /** After the traffic, the unattended cutover story (src/platform/cutover-story.ts); the stack should run with demoConfigOverrides. */
  story?: boolean;
}

export interface MainJobOutcome {
  export: ExportOutcome;
  exportFiles: string[];
  requests: number;
  /** What `cutover traffic` sent and got, when it ran. */
  traffic?: TrafficSummary;
  report: Report;
  reportPaths: { json: string; markdown: string; html: string };
  /** The readiness gate over this run's observations, with the demo's lowered thresholds. */
  gate: GateReport;
  /** The cutover story, when it ran. */
  story?: StoryOutcome;
}

/**
 * The main job's run is minutes, not the days of traffic the default thresholds expect (3,838
 * comparisons a route): its gate runs with these, lowered for its size and printed as such.
 */
export const demoGateOverrides: GateOverrides = Object.freeze({ minCompared: 30, minParity: 0.9, maxErrorRate: 0.1, minLatencySamples: 20, maxP99Ratio: 2 });

async function waitForMode(stack: CutoverStack, routeId: string, mode: FlagMode, deadlineMs = 5000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (stack.flagSource.current().flags.get(routeId)?.mode !== mode) {
    if (Date.now() > until) throw new CutoverError('CUTOVER_ERR_MAIN_JOB_FAILED', `the proxy did not see ${routeId} in ${mode} mode within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** GETs a path and reads the whole answer; the status is not checked (a 404 is traffic too). */
async function get(base: string, path: string, token?: string): Promise<number> {
  const response = await fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  await response.arrayBuffer();
  return response.status;
}

async function post(base: string, path: string, body: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Non-JSON answers still count as traffic; the report compares them by bytes.
  }
  return { status: response.status, json };
}

export async function runMainJob(stack: CutoverStack, options: MainJobOptions): Promise<MainJobOutcome> {
  const { log } = options;
  // The report covers this run's traffic only: an earlier run's observations stay in the store but are not this run's parity.
  const started = new Date();
  // The resources criterion reads the processes' counters across the run: its first sample is here.
  await stack.sampleResources();
  for (const pattern of options.shadow) {
    const changed = await stack.flagStore.set({
      pattern,
      mode: 'shadow',
      actor: 'cutover-main-job',
      reason: 'main job: compare the TypeScript reimplementation with legacy on real traffic before any cut-over',
    });
    log(`flags: ${pattern} -> shadow (${changed.length} routes changed)`);
  }
  await waitForMode(stack, 'sync.gis-export.run', 'shadow');

  const gateway = stack.proxy.urls.gateway!;
  const sync = stack.proxy.urls.sync!;
  let requests = 0;
  const count = <T>(value: T) => {
    requests += 1;
    return value;
  };

  const token = count(await loginForToken(gateway, 'admin', 'admin123'));
  const areaOfInterest = await centralAreaOfInterest(stack.databaseUrl, options.countyId);
  log(`running a ${options.format} export of ${options.countyId} through the gateway door...`);
  const outcome = await runGisExport(gateway, token, { countyId: options.countyId, format: options.format, layers: ['parcels', 'zoning', 'roads'], areaOfInterest });
  requests += outcome.requests;
  if (outcome.status !== 'COMPLETED' || !outcome.result) {
    throw new CutoverError('CUTOVER_ERR_MAIN_JOB_FAILED', `export job ${outcome.jobId} ended ${outcome.status}: ${outcome.message}`);
  }
  count(await get(sync, outcome.result.file_location));

  log('driving read traffic and the job plugins through the proxy...');
  for (const path of ['/health', '/counties', `/counties/${options.countyId}`, `/plugins/v1/gis-export/formats/${options.countyId}`, `/plugins/v1/gis-export/defaults/${options.countyId}`, '/plugins/v1/gis-export/health']) {
    count(await get(sync, path));
  }
  for (let offset = 0; offset < 500; offset += 50) count(await get(sync, `/properties?county_id=${options.countyId}&limit=50&offset=${offset}`));
  for (const status of ['COMPLETED', 'FAILED', 'PENDING']) count(await get(sync, `/plugins/v1/gis-export/list?county_id=${options.countyId}&status=${status}&limit=20`));
  count(await get(sync, `/plugins/v1/gis-export/status/${outcome.jobId}`));
  count(await get(sync, `/plugins/v1/gis-export/results/${outcome.jobId}`));
  count(await get(sync, '/properties/no-such-property'));
  count(await post(sync, '/plugins/v1/gis-export/run', { county_id: options.countyId }));

  const report = count(await post(gateway, '/api/v1/reporting/run', { report_type: 'assessment_roll_summary', county_id: options.countyId }, token));
  if (typeof report.json.report_id === 'string') count(await get(gateway, `/api/v1/reporting/status/${report.json.report_id}`, token));
  const market = count(await post(gateway, '/api/v1/market-analysis/run', { analysis_type: 'price_trend_by_zip', county_id: options.countyId }, token));
  if (typeof market.json.job_id === 'string') count(await get(gateway, `/api/v1/market-analysis/status/${market.json.job_id}`, token));
  const firstProperty = await fetch(`${sync}/properties?county_id=${options.countyId}&property_type=residential&limit=1`).then((r) => r.json() as Promise<Array<{ property_id: string }>>);
  requests += 1;
  if (firstProperty[0]) count(await post(gateway, '/api/v1/valuation/run', { county_id: options.countyId, property_id: firstProperty[0].property_id }, token));
  for (const task of ['summarize', 'classify', 'explain']) {
    count(await post(gateway, `/api/v1/ai/${task}`, { text: `Parcel ${firstProperty[0]?.property_id ?? ''} in ${options.countyId}: assessed value rose 7% after the 2024 revaluation.` }, token));
  }

  let traffic: TrafficSummary | undefined;
  if (options.traffic) {
    log(`cutover traffic: ${options.traffic.rate} requests/s for ${options.traffic.durationMs / 1000} s over every catalogued route...`);
    traffic = await runTraffic({
      catalogue: stack.catalogue,
      urls: { gateway, sync, ...(stack.proxy.urls.narrator ? { narrator: stack.proxy.urls.narrator } : {}) },
      rate: options.traffic.rate,
      durationMs: options.traffic.durationMs,
      fixturesDir: defaultFixturesDir,
      passwords: stack.config.fixtures.replayPasswords,
      stream: { write: (text: string) => (log(text.trimEnd()), true), isTTY: false } as unknown as NodeJS.WritableStream,
      tty: false,
    });
    requests += traffic.sent;
  }

  const story = options.story ? await runCutoverStory(stack, { countyId: options.countyId, since: started, gateOverrides: demoGateOverrides, log }) : undefined;

  // The last shadow copies (the narrator's) may still be answering; their observations belong to this run.
  const copiesDeadline = Date.now() + stack.config.proxy.shadow.timeoutMs;
  while (stack.proxy.health().shadowInFlight > 0 && Date.now() < copiesDeadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await stack.proxy.flushObservations();
  const now = new Date();
  await stack.sampleResources();
  const resources = await resourcesOver(stack.resourceSamples, stack.catalogue, { since: started, until: new Date() });
  const gate = await runGate(
    { observations: stack.observations, catalogue: stack.catalogue, thresholds: stack.config.gate.thresholds, flags: () => stack.flagStore.snapshot(), resources },
    { since: started, now, overrides: demoGateOverrides },
  );
  const collected = await collectReport(
    {
      observations: stack.observations,
      unknownTraffic: stack.unknownTraffic,
      catalogue: stack.catalogue,
      flags: () => stack.flagStore.snapshot(),
      redactor: createStorageRedactor(stack.config.redaction.piiFields),
      timeouts: { upstreamTimeoutMs: stack.config.proxy.upstreamTimeoutMs, shadowTimeoutMs: stack.config.proxy.shadow.timeoutMs },
      rollouts: async () => {
        const store = new PgRolloutStore(stack.databaseUrl);
        return store.list().finally(() => store.close());
      },
      readiness: async () => readinessSummary(gate),
    },
    { since: started, now },
  );
  const reportPaths = writeReport(collected, options.reportDir ?? join('reports', reportStamp(now)));
  const folder = join(stack.legacy.exportDir, outcome.jobId);
  return {
    export: outcome,
    exportFiles: existsSync(folder) ? readdirSync(folder).map((file) => join(folder, file)) : [],
    requests,
    ...(traffic ? { traffic } : {}),
    report: collected,
    reportPaths,
    gate,
    ...(story ? { story } : {}),
  };
}
