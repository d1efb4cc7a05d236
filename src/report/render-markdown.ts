/** report.md: the report as markdown tables, for a pull request or a chat message. */
import { clip, formatAdvisory, formatCriterion, formatFailures, formatFallbacks, formatTimeout, formatMode, formatMs, formatRate, formatRatio } from './format.js';
import type { Report } from './report.js';
import { renderFiguresMarkdown } from './charts.js';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string) => `\`${cell(text).replace(/`/g, "'")}\``;

export function renderMarkdown(report: Report): string {
  const { totals } = report;
  const lines = [
    '# Cutover parity report',
    '',
    `Generated ${report.generatedAt}${report.since ? `, observations since ${report.since}` : ''}.` + (report.killSwitch ? ' **Kill switch engaged.**' : ''),
    '',
    `${totals.observations} observations: ${totals.matched} matched, ${totals.mismatched} mismatched, ${totals.ignored} ignored, ${totals.errored} errored. ` +
      `Parity ${formatRate(totals.parityRate)} (matched / compared; ignored and errored are not compared). Unknown requests: ${totals.unknownRequests}.`,
  ];
  const rules = Object.entries(totals.ignoredBy);
  if (rules.length > 0) lines.push('', `Ignored by rule: ${rules.map(([rule, count]) => `${code(rule)} ${count}`).join(', ')}.`);
  if (report.readiness) {
    lines.push('', '## Readiness', '', `Gate: **${report.readiness.verdict}** over observations since ${report.readiness.since} (\`cutover gate\` for every criterion).`, '', '| Route | Verdict | Failed or open criteria | Seed targets (advisory) |', '|---|---|---|---|');
    for (const route of report.readiness.routes) lines.push(`| ${code(route.routeId)} | ${route.verdict} | ${route.failed.map((criterion) => cell(formatCriterion(criterion))).join('; ') || '-'} | ${(route.advisory ?? []).map((criterion) => cell(formatAdvisory(criterion))).join('; ') || '-'} |`);
  }
  if (report.truncated) lines.push('', '_Only the newest observations were read; narrow --since for a complete report._');
  lines.push(
    '',
    '## Routes',
    '',
    '| Route | Mode | Observations | Matched | Mismatched | Ignored | Errored | Parity | Legacy p50/p95/p99 ms | Reimpl p50/p95/p99 ms | Ratio p50/p95/p99 |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|---|---|',
  );
  for (const route of report.routes) {
    const { legacy, reimpl } = route.latencyMs;
    lines.push(
      `| ${code(route.routeId)} | ${formatMode(route.mode, route.observedModes)} | ${route.observations} | ${route.matched} | ${route.mismatched} | ${route.ignored} | ${route.errored} | ${formatRate(route.parityRate)} | ` +
        `${formatMs(legacy.p50)} / ${formatMs(legacy.p95)} / ${formatMs(legacy.p99)} | ${formatMs(reimpl.p50)} / ${formatMs(reimpl.p95)} / ${formatMs(reimpl.p99)} | ` +
        `${formatRatio(route.latencyRatio.p50)} / ${formatRatio(route.latencyRatio.p95)} / ${formatRatio(route.latencyRatio.p99)} |`,
    );
  }
  const withMismatches = report.routes.filter((route) => route.mismatchPaths.length > 0);
  if (withMismatches.length) lines.push('', '## Mismatches by diff path');
  for (const route of withMismatches) {
    lines.push('', `### ${route.routeId}`, '', '| Path | Count | Example (serving → shadow) |', '|---|---:|---|');
    for (const mismatch of route.mismatchPaths) {
      const example = mismatch.example;
      lines.push(`| ${code(mismatch.path)} | ${mismatch.count} | ${code(clip(example.serving))} → ${code(clip(example.shadow))} on ${code(example.requestPath)} |`);
    }
  }
  const withAccepted = report.routes.filter((route) => route.acceptedAbsorbed.length > 0);
  if (withAccepted.length) {
    lines.push('', '## Accepted differences absorbed', '', 'Declared differences (parity/accepted-differences.yaml), apart from plain matches.', '', '| Route | Accepted difference | Observations | Paths |', '|---|---|---:|---|');
    for (const route of withAccepted) {
      for (const entry of route.acceptedAbsorbed) {
        const paths = Object.entries(entry.paths).map(([path, count]) => `${code(path)} ${count}`).join(', ');
        lines.push(`| ${code(route.routeId)} | ${code(entry.id)} | ${entry.observations} | ${paths} |`);
      }
    }
  }
  if (report.rollouts.length) {
    lines.push('', '## Rollouts', '', 'Progressive rollouts started in the window, newest first; the controller\'s changes are in the audit log as `rollout-controller` (`cutover flags history`).', '', '| Route | State | Steps | At | Started | Last analysis |', '|---|---|---|---|---|---|');
    for (const rollout of report.rollouts) lines.push(`| ${code(rollout.routeId)} | ${rollout.state} | ${rollout.steps.join(', ')} | canary:${rollout.percent} | ${rollout.startedAt} by ${cell(rollout.actor)} | ${cell(rollout.lastAnalysis ?? '-')} |`);
  }
  const withTransport = report.routes.filter((route) => route.transport !== null);
  if (withTransport.length) {
    lines.push('', '## Fallbacks, timeouts and retries', '', 'Fell back: requests legacy answered because the reimplementation failed them serving (canary, reimpl), by reason; also `cutover_proxy_fallbacks_total`.', '', '| Route | Fell back | Serving timeout | Shadow timeout | Retries |', '|---|---|---|---|---|');
    for (const route of withTransport) {
      lines.push(`| ${code(route.routeId)} | ${formatFallbacks(route.fallbacks)} | ${formatTimeout(route.transport!.servingTimeoutMs)} | ${formatTimeout(route.transport!.shadowTimeoutMs)} | ${cell(route.transport!.retry)} |`);
    }
  }
  const withIgnored = report.routes.filter((route) => route.ignored > 0 || route.errored > 0);
  if (withIgnored.length) {
    lines.push('', '## Ignored and errored', '', '| Route | Ignored by rule | Errored (serving / shadow / both) | Failures reimpl | Failures legacy |', '|---|---|---|---|---|');
    for (const route of withIgnored) {
      const rules = Object.entries(route.ignoredBy).map(([rule, count]) => `${code(rule)} ${count}`).join(', ') || '-';
      lines.push(`| ${code(route.routeId)} | ${rules} | ${route.erroredBySide.serving} / ${route.erroredBySide.shadow} / ${route.erroredBySide.both} | ${formatFailures(route.failures.reimpl)} | ${formatFailures(route.failures.legacy)} |`);
    }
  }
  lines.push(...renderFiguresMarkdown(report.figures));
  lines.push('', '## Unknown traffic', '');
  if (report.unknownTraffic.length === 0) lines.push('No request fell outside the route catalogue.');
  else {
    lines.push('Requests no catalogued route matched (forwarded to legacy):', '', '| Service | Method | Path | Requests | Last seen |', '|---|---|---|---:|---|');
    for (const entry of report.unknownTraffic) lines.push(`| ${entry.service} | ${entry.method} | ${code(entry.path)} | ${entry.count} | ${entry.lastSeen} |`);
  }
  return `${lines.join('\n')}\n`;
}
