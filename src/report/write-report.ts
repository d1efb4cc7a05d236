/**
 * Gathers what a report needs from the stores and writes report.json, report.md and report.html.
 * The numbers are the store's tallies of the window (computed in SQL on PostgreSQL); the only
 * stored text shown, the mismatch examples, is redacted again before it is reported (the proxy
 * stores it redacted; rows from before that, or from a store written by other means, are not
 * trusted to be).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FlagSnapshot } from '../../flags/flag.js';
import type { RouteCatalogue } from '../../flags/route-catalogue.js';
import type { ReadinessSummary } from '../../gate/gate.js';
import type { ObservationStore } from '../../proxy/observe/observation.js';
import type { ObservationTallies } from '../../proxy/observe/observation-tallies.js';
import { redactDifference } from '../../proxy/observe/redact-observation.js';
import { createStorageRedactor, type Redactor } from '../../parity/compare/redact.js';
import { defaultPiiFields } from '../config/schema.js';
import type { LearnedRoute } from '../../parity/runner/calibrate-learn.js';
import { learnedNoiseHtml, learnedNoiseMarkdown } from './learned-noise.js';
import { renderHtml } from './render-html.js';
import { renderMarkdown } from './render-markdown.js';
import { buildReport, type Report, type RolloutSummary } from './report.js';
import type { Rollout } from '../../rollout/rollout.js';
import type { UnknownTrafficStore } from './unknown-traffic.js';

export interface ReportSources {
  observations: Pick<ObservationStore, 'tallies'>;
  catalogue: RouteCatalogue;
  /** The current flags, for each route's mode; without it the observed modes are shown. */
  flags?: () => Promise<FlagSnapshot>;
  unknownTraffic?: Pick<UnknownTrafficStore, 'list'>;
  /** Redacts what is reported (config redaction.piiFields); the default PII fields with credentials when absent. */
  redactor?: Redactor;
  /** The readiness gate over the report's window, so the report opens with each route's verdict. */
  readiness?: (since: Date | undefined) => Promise<ReadinessSummary>;
  /** The proxy's timeouts, shown per route where they apply (config proxy.upstreamTimeoutMs, proxy.shadow.timeoutMs). */
  timeouts?: { upstreamTimeoutMs: number; shadowTimeoutMs: number };
  /** The rollouts (rollout/ RolloutStore.list), those started in the window shown. */
  rollouts?: () => Promise<readonly Rollout[]>;
}

function rolloutSummary(rollout: Rollout): RolloutSummary {
  return {
    routeId: rollout.routeId,
    state: rollout.state,
    steps: rollout.steps,
    percent: rollout.steps[rollout.stepIndex] ?? rollout.steps[rollout.steps.length - 1]!,
    startedAt: rollout.createdAt.toISOString(),
    updatedAt: rollout.updatedAt.toISOString(),
    actor: rollout.actor,
    reason: rollout.reason,
    lastAnalysis: rollout.lastAnalysis?.why ?? null,
  };
}

/** The tallies with each mismatch example's request path and values through the redactor (the report's, and the web console's). */
export function redactTallies(tallies: ObservationTallies, redactor: Redactor): ObservationTallies {
  return {
    ...tallies,
    routes: tallies.routes.map((route) => ({
      ...route,
      mismatchPaths: route.mismatchPaths.map((entry) => {
        const { example } = entry;
        const difference = redactDifference({ path: example.path, ...(example.serving === null ? {} : { serving: example.serving }), ...(example.shadow === null ? {} : { shadow: example.shadow }) }, redactor);
        return { ...entry, example: { ...example, requestPath: redactor.path(example.requestPath), serving: difference.serving ?? null, shadow: difference.shadow ?? null } };
      }),
    })),
  };
}

export async function collectReport(sources: ReportSources, options: { since?: Date; now?: Date; include?: 'all' | 'observed' } = {}): Promise<Report> {
  const [tallies, flags, unknownTraffic, readiness, rollouts] = await Promise.all([
    sources.observations.tallies(options.since === undefined ? {} : { since: options.since }),
    sources.flags?.(),
    sources.unknownTraffic?.list({ since: options.since }),
    sources.readiness?.(options.since),
    sources.rollouts?.(),
  ]);
  const redactor = sources.redactor ?? createStorageRedactor(defaultPiiFields);
  return buildReport({
    tallies: redactTallies(tallies, redactor),
    routes: sources.catalogue.routes,
    flags,
    unknownTraffic: unknownTraffic?.map((entry) => ({ ...entry, path: redactor.path(entry.path) })),
    since: options.since,
    generatedAt: options.now,
    include: options.include,
    readiness,
    ...(sources.timeouts ? { timeouts: sources.timeouts } : {}),
    ...(rollouts ? { rollouts: rollouts.filter((rollout) => options.since === undefined || rollout.createdAt >= options.since).map(rolloutSummary) } : {}),
  });
}

/** Writes the three files into `dir` (created when missing); returns their paths. `learnedNoise`: calibrations to show (cutover calibrate). */
export function writeReport(report: Report, dir: string, learnedNoise?: readonly LearnedRoute[]): { json: string; markdown: string; html: string } {
  const out = resolve(dir);
  mkdirSync(out, { recursive: true });
  const paths = { json: join(out, 'report.json'), markdown: join(out, 'report.md'), html: join(out, 'report.html') };
  writeFileSync(paths.json, `${JSON.stringify(learnedNoise ? { ...report, learnedNoise } : report, null, 2)}\n`);
  writeFileSync(paths.markdown, learnedNoise ? `${renderMarkdown(report).trimEnd()}\n\n${learnedNoiseMarkdown(learnedNoise)}` : renderMarkdown(report));
  const html = renderHtml(report);
  writeFileSync(paths.html, learnedNoise ? html.replace(/<\/body>/, `${learnedNoiseHtml(learnedNoise)}\n</body>`) : html);
  return paths;
}
