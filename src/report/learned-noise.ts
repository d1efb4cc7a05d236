/**
 * The report's "learned noise" section: per route, what `cutover calibrate` learned from
 * legacy against legacy (parity/runner/calibrate-learn.ts) — the paths that vary by nature,
 * how often, of what kind, within what spread, and which a person pinned — and how many
 * paths stayed stable. Rendered apart from the parity numbers, in markdown and HTML.
 */
import type { LearnedPath, LearnedRoute } from '../../parity/runner/calibrate-learn.js';

const how = (path: LearnedPath) => (path.varies === 'always' ? 'always' : `sometimes (${(path.rate * 100).toFixed(0)}%)`);
const kind = (path: LearnedPath) => path.format ? `${path.kind} \`${path.format}\`` : path.range ? `${path.kind} in [${path.range.min}, ${path.range.max}]` : path.kind;
const spread = (path: LearnedPath) => (path.maxDelta === undefined ? '-' : path.kind === 'timestamp' ? `${path.maxDelta.toFixed(1)} ms` : String(path.maxDelta));
const noisy = (route: LearnedRoute) => route.paths.filter((path) => path.varies !== 'never');

export function learnedNoiseMarkdown(routes: readonly LearnedRoute[]): string {
  const lines = ['## Learned noise', ''];
  if (routes.length === 0) return [...lines, 'No route calibrated yet (`cutover calibrate`).', ''].join('\n');
  for (const route of routes) {
    const paths = noisy(route);
    lines.push(`### \`${route.routeId}\``, '', `${route.samples} legacy-vs-legacy sample pairs (learned ${route.learnedAt}): ${paths.length} noisy paths, ${route.paths.length - paths.length} stable.`, '');
    if (paths.length === 0) continue;
    lines.push('| Path | Varies | Kind | Largest spread | Pinned |', '|---|---|---|---|---|');
    for (const path of paths) lines.push(`| \`${path.path}\` | ${how(path)} | ${kind(path)} | ${spread(path)} | ${path.pinned ? 'yes' : ''} |`);
    lines.push('');
  }
  return lines.join('\n');
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function learnedNoiseHtml(routes: readonly LearnedRoute[]): string {
  if (routes.length === 0) return '<h2>Learned noise</h2><p>No route calibrated yet (<code>cutover calibrate</code>).</p>';
  const sections = routes.map((route) => {
    const paths = noisy(route);
    const rows = paths.map((path) => `<tr><td><code>${escape(path.path)}</code></td><td>${how(path)}</td><td>${escape(kind(path).replace(/`/g, ''))}</td><td class="n">${spread(path)}</td><td>${path.pinned ? 'yes' : ''}</td></tr>`);
    const table = rows.length ? `<table><tr><th>Path</th><th>Varies</th><th>Kind</th><th>Largest spread</th><th>Pinned</th></tr>${rows.join('')}</table>` : '';
    return `<h3><code>${escape(route.routeId)}</code></h3><p>${route.samples} legacy-vs-legacy sample pairs (learned ${escape(route.learnedAt)}): ${paths.length} noisy paths, ${route.paths.length - paths.length} stable.</p>${table}`;
  });
  return `<h2>Learned noise</h2>${sections.join('\n')}`;
}
