/** report.html: one self-contained page (inline styles, no script, no external asset) to open or attach anywhere. */
import { clip, formatAdvisory, formatCriterion, formatFailures, formatFallbacks, formatTimeout, formatMode, formatMs, formatRate, formatRatio } from './format.js';
import type { Report, RouteReport } from './report.js';
import { renderFiguresHtml } from './charts.js';

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const style = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d232a}h1{margin-top:0}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #d0d7de;padding:.3rem .55rem;text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f3f5f7}code{font:12px ui-monospace,monospace;word-break:break-all}.good{color:#116329}.bad{color:#a40e26;font-weight:600}.warn{color:#8a5300}
.summary{background:#f6f8fa;border:1px solid #d0d7de;padding:.6rem .9rem;display:inline-block}`;

function parityClass(rate: number | null): string {
  if (rate === null) return '';
  return rate >= 0.99 ? 'good' : rate >= 0.9 ? 'warn' : 'bad';
}

function routeRow(route: RouteReport): string {
  const { legacy, reimpl } = route.latencyMs;
  const triple = (a: string, b: string, c: string) => `${a} / ${b} / ${c}`;
  return `<tr><td><code>${escape(route.routeId)}</code><br><small>${escape(route.method)} ${escape(route.path)}</small></td>
<td>${escape(formatMode(route.mode, route.observedModes))}</td><td class="n">${route.observations}</td><td class="n">${route.matched}</td>
<td class="n">${route.mismatched}</td><td class="n">${route.ignored}</td><td class="n">${route.errored}</td>
<td class="n ${parityClass(route.parityRate)}">${formatRate(route.parityRate)}</td>
<td class="n">${triple(formatMs(legacy.p50), formatMs(legacy.p95), formatMs(legacy.p99))}</td>
<td class="n">${triple(formatMs(reimpl.p50), formatMs(reimpl.p95), formatMs(reimpl.p99))}</td>
<td class="n">${triple(formatRatio(route.latencyRatio.p50), formatRatio(route.latencyRatio.p95), formatRatio(route.latencyRatio.p99))}</td></tr>`;
}

export function renderHtml(report: Report): string {
  const { totals } = report;
  const parts = [
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cutover parity report ${escape(report.generatedAt)}</title><style>${style}</style></head><body>`,
    '<h1>Cutover parity report</h1>',
    `<p>Generated ${escape(report.generatedAt)}${report.since ? `, observations since ${escape(report.since)}` : ''}.${report.killSwitch ? ' <strong class="bad">Kill switch engaged.</strong>' : ''}</p>`,
    `<p class="summary">${totals.observations} observations: ${totals.matched} matched, ${totals.mismatched} mismatched, ${totals.ignored} ignored, ${totals.errored} errored.
Parity <strong class="${parityClass(totals.parityRate)}">${formatRate(totals.parityRate)}</strong> (matched / compared; ignored and errored are not compared). Unknown requests: ${totals.unknownRequests}.</p>`,
  ];
  const rules = Object.entries(totals.ignoredBy);
  if (rules.length > 0) parts.push(`<p>Ignored by rule: ${rules.map(([rule, count]) => `<code>${escape(rule)}</code> ${count}`).join(', ')}.</p>`);
  if (report.readiness) {
    const verdictClass = (verdict: string) => (verdict === 'READY' ? 'good' : verdict === 'NOT_READY' ? 'bad' : 'warn');
    parts.push(
      `<h2>Readiness</h2><p>Gate: <strong class="${verdictClass(report.readiness.verdict)}">${escape(report.readiness.verdict)}</strong> over observations since ${escape(report.readiness.since)} (<code>cutover gate</code> for every criterion).</p>`,
      '<table><thead><tr><th>Route</th><th>Verdict</th><th>Failed or open criteria</th><th>Seed targets (advisory)</th></tr></thead><tbody>',
      ...report.readiness.routes.map((route) => `<tr><td><code>${escape(route.routeId)}</code></td><td class="${verdictClass(route.verdict)}">${escape(route.verdict)}</td><td>${route.failed.map((criterion) => escape(formatCriterion(criterion))).join('<br>') || '-'}</td><td>${(route.advisory ?? []).map((criterion) => `<span title="${escape(criterion.detail)}">${escape(formatAdvisory(criterion))}</span>`).join('<br>') || '-'}</td></tr>`),
      '</tbody></table>',
    );
  }
  if (report.truncated) parts.push('<p class="warn">Only the newest observations were read; narrow --since for a complete report.</p>');
  parts.push(
    '<h2>Routes</h2><table><thead><tr><th>Route</th><th>Mode</th><th>Observations</th><th>Matched</th><th>Mismatched</th><th>Ignored</th><th>Errored</th><th>Parity</th>',
    '<th>Legacy p50 / p95 / p99 ms</th><th>Reimpl p50 / p95 / p99 ms</th><th>Ratio</th></tr></thead><tbody>',
    ...report.routes.map(routeRow),
    '</tbody></table>',
    renderFiguresHtml(report.figures),
  );
  const withMismatches = report.routes.filter((route) => route.mismatchPaths.length > 0);
  if (withMismatches.length) parts.push('<h2>Mismatches by diff path</h2>');
  for (const route of withMismatches) {
    parts.push(`<h3><code>${escape(route.routeId)}</code></h3><table><thead><tr><th>Path</th><th>Count</th><th>Serving</th><th>Shadow</th><th>Request</th></tr></thead><tbody>`);
    for (const mismatch of route.mismatchPaths) {
      const example = mismatch.example;
      parts.push(`<tr><td><code>${escape(mismatch.path)}</code></td><td class="n">${mismatch.count}</td><td><code>${escape(clip(example.serving, 400))}</code></td>
<td><code>${escape(clip(example.shadow, 400))}</code></td><td><code>${escape(example.requestPath)}</code><br><small>${escape(example.observedAt)}</small></td></tr>`);
    }
    parts.push('</tbody></table>');
  }
  const withAccepted = report.routes.filter((route) => route.acceptedAbsorbed.length > 0);
  if (withAccepted.length) {
    parts.push('<h2>Accepted differences absorbed</h2><table><thead><tr><th>Route</th><th>Accepted difference</th><th>Observations</th><th>Paths</th></tr></thead><tbody>');
    for (const route of withAccepted) {
      for (const entry of route.acceptedAbsorbed) {
        const paths = Object.entries(entry.paths).map(([path, count]) => `<code>${escape(path)}</code> ${count}`).join(', ');
        parts.push(`<tr><td><code>${escape(route.routeId)}</code></td><td><code>${escape(entry.id)}</code></td><td class="n">${entry.observations}</td><td>${paths}</td></tr>`);
      }
    }
    parts.push('</tbody></table>');
  }
  if (report.rollouts.length) {
    parts.push('<h2>Rollouts</h2><p>Progressive rollouts started in the window, newest first; the controller\'s changes are in the audit log as <code>rollout-controller</code>.</p><table><thead><tr><th>Route</th><th>State</th><th>Steps</th><th>At</th><th>Started</th><th>Last analysis</th></tr></thead><tbody>');
    for (const rollout of report.rollouts) {
      parts.push(`<tr><td><code>${escape(rollout.routeId)}</code></td><td class="${rollout.state === 'completed' ? 'good' : rollout.state === 'rolled-back' ? 'bad' : 'warn'}">${escape(rollout.state)}</td><td>${escape(rollout.steps.join(', '))}</td><td>canary:${rollout.percent}</td><td>${escape(rollout.startedAt)} by ${escape(rollout.actor)}</td><td>${escape(rollout.lastAnalysis ?? '-')}</td></tr>`);
    }
    parts.push('</tbody></table>');
  }
  const withTransport = report.routes.filter((route) => route.transport !== null);
  if (withTransport.length) {
    parts.push('<h2>Fallbacks, timeouts and retries</h2><p>Fell back: requests legacy answered because the reimplementation failed them serving (canary, reimpl), by reason; also <code>cutover_proxy_fallbacks_total</code>.</p><table><thead><tr><th>Route</th><th>Fell back</th><th>Serving timeout</th><th>Shadow timeout</th><th>Retries</th></tr></thead><tbody>');
    for (const route of withTransport) {
      parts.push(`<tr><td><code>${escape(route.routeId)}</code></td><td>${escape(formatFallbacks(route.fallbacks))}</td><td>${escape(formatTimeout(route.transport!.servingTimeoutMs))}</td><td>${escape(formatTimeout(route.transport!.shadowTimeoutMs))}</td><td>${escape(route.transport!.retry)}</td></tr>`);
    }
    parts.push('</tbody></table>');
  }
  const withIgnored = report.routes.filter((route) => route.ignored > 0 || route.errored > 0);
  if (withIgnored.length) {
    parts.push('<h2>Ignored and errored</h2><table><thead><tr><th>Route</th><th>Ignored by rule</th><th>Errored serving / shadow / both</th><th>Failures reimpl</th><th>Failures legacy</th></tr></thead><tbody>');
    for (const route of withIgnored) {
      const rules = Object.entries(route.ignoredBy).map(([rule, count]) => `<code>${escape(rule)}</code> ${count}`).join(', ') || '-';
      parts.push(`<tr><td><code>${escape(route.routeId)}</code></td><td>${rules}</td><td>${route.erroredBySide.serving} / ${route.erroredBySide.shadow} / ${route.erroredBySide.both}</td><td>${escape(formatFailures(route.failures.reimpl))}</td><td>${escape(formatFailures(route.failures.legacy))}</td></tr>`);
    }
    parts.push('</tbody></table>');
  }
  parts.push('<h2>Unknown traffic</h2>');
  if (report.unknownTraffic.length === 0) parts.push('<p>No request fell outside the route catalogue.</p>');
  else {
    parts.push('<table><thead><tr><th>Service</th><th>Method</th><th>Path</th><th>Requests</th><th>Last seen</th></tr></thead><tbody>');
    for (const entry of report.unknownTraffic) {
      parts.push(`<tr><td>${escape(entry.service)}</td><td>${escape(entry.method)}</td><td><code>${escape(entry.path)}</code></td><td class="n">${entry.count}</td><td>${escape(entry.lastSeen)}</td></tr>`);
    }
    parts.push('</tbody></table>');
  }
  parts.push('</body></html>');
  return `${parts.join('\n')}\n`;
}
