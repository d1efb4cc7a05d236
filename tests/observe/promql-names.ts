/**
 * The metric names a PromQL expression reads, found by taking the expression apart rather than
 * from a hand-kept list: strings, label matchers, ranges and grouping clauses are removed,
 * then every identifier that is not a function, an aggregation, a keyword or a number is a
 * metric name. Grafana's `$variables` and `label_values(metric, label)` are understood too.
 */

const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan', 'start', 'end', 'atan2']);

/** The metric names `expr` selects, each once, in order of appearance. */
export function metricNames(expr: string): string[] {
  const text = expr
    // Grafana: label_values(metric, label) reads metric; label_values(label) reads none.
    .replace(/\blabel_values\(\s*([^,()]+?)\s*,[^)]*\)/g, ' $1 ')
    .replace(/\blabel_values\([^)]*\)/g, ' ')
    // Grafana's variables ($__rate_interval, ${datasource}, $route) stand for values, never names.
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  const token = /(0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[a-zA-Z]*|\.\d+)|([a-zA-Z_:][\w:]*)(\s*\()?/g;
  for (const match of text.matchAll(token)) {
    const [, number, identifier, call] = match;
    if (number !== undefined || identifier === undefined) continue;
    if (call !== undefined || keywords.has(identifier.toLowerCase())) continue;
    if (!names.includes(identifier)) names.push(identifier);
  }
  return names;
}

/** The names a Prometheus text exposition exports: every sample's, and every family's with its type's suffixes. */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)/.exec(line);
    if (typed) {
      const [, family, type] = typed as unknown as [string, string, string];
      names.add(family);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family + suffix);
      if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(family + suffix);
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{|\s)/.exec(line);
    if (sample) names.add(sample[1]!);
  }
  return names;
}
