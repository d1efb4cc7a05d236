/**
 * Metrics compared as metrics: two Prometheus text expositions (format 0.0.4, what
 * prometheus_client and the reimplementation write) parsed into families, and the families
 * compared — present on both sides, the same type, the same help text, the same label names
 * on each series, the same histogram buckets and summary quantiles — because dashboards and
 * alerts are written against those. Sample values are counts and gauges of two processes that
 * served different traffic: they are not compared.
 */
import type { PathStep } from './json-path.js';

export interface MetricFamily {
  name: string;
  type: string;
  help: string | undefined;
  /** Per series name (`x_bucket`, `x_sum`, `x`): the label-name sets its samples carry, each as sorted names joined by `,`. */
  labelSets: Map<string, Set<string>>;
  /** Histogram `le` and summary `quantile` values seen. */
  bounds: Set<string>;
}

/** A difference between two expositions, at `$.<family>` (presence) or `$.<family>.<aspect>`. */
export interface MetricsDifference {
  steps: PathStep[];
  kind: 'missing' | 'extra' | 'value';
  legacy?: string;
  reimpl?: string;
  detail: string;
}

const suffixes = ['_bucket', '_sum', '_count', '_total', '_created', '_info', '_gcount', '_gsum'];
const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const labelPair = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;
// Prometheus reads a value with Go's ParseFloat: NaN and Inf in any case (prom-client writes `Nan`).
const sampleValue = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|[+-]?inf(?:inity)?|nan)$/i;

/** Thrown when a body is not a Prometheus text exposition. */
export class NotMetricsText extends Error {}

/** The families of a Prometheus text exposition, by name; throws NotMetricsText on a line it cannot read. */
export function parseMetricsText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const family = (name: string) => {
    let found = families.get(name);
    if (!found) {
      found = { name, type: 'untyped', help: undefined, labelSets: new Map(), bounds: new Set() };
      families.set(name, found);
    }
    return found;
  };
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.trimEnd();
    if (line === '') return;
    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s(.*))?$/.exec(line);
      if (!meta) return; // a comment
      const target = family(meta[2]!);
      if (meta[1] === 'HELP') target.help = meta[3] ?? '';
      else target.type = (meta[3] ?? '').trim();
      return;
    }
    const sample = sampleLine.exec(line);
    if (!sample || !sampleValue.test(sample[3]!)) throw new NotMetricsText(`line ${index + 1} is not a sample: ${line.slice(0, 80)}`);
    const [, series, labelText = ''] = sample;
    const labels: Record<string, string> = {};
    labelPair.lastIndex = 0;
    while (labelPair.lastIndex < labelText.length) {
      const start = labelPair.lastIndex;
      const pair = labelPair.exec(labelText);
      if (!pair || pair.index !== start) throw new NotMetricsText(`line ${index + 1} has unreadable labels: ${line.slice(0, 80)}`);
      labels[pair[1]!] = pair[2]!;
    }
    const owner = ownerOf(series!, families);
    const sets = owner.labelSets.get(series!) ?? new Set<string>();
    sets.add(Object.keys(labels).sort().join(','));
    owner.labelSets.set(series!, sets);
    if (labels.le !== undefined) owner.bounds.add(`le=${labels.le}`);
    if (labels.quantile !== undefined) owner.bounds.add(`quantile=${labels.quantile}`);
  });
  return families;
}

/** The declared family a series belongs to: its own name, or its name without a histogram/summary/counter suffix. */
function ownerOf(series: string, families: Map<string, MetricFamily>): MetricFamily {
  const declared = families.get(series);
  if (declared) return declared;
  for (const suffix of suffixes) {
    if (series.endsWith(suffix)) {
      const base = families.get(series.slice(0, -suffix.length));
      if (base) return base;
    }
  }
  const own: MetricFamily = { name: series, type: 'untyped', help: undefined, labelSets: new Map(), bounds: new Set() };
  families.set(series, own);
  return own;
}

/** A family as a difference shows it: name, type and help (accepted differences match on the name). */
const describe = (family: MetricFamily) => `${family.name} ${family.type}${family.help === undefined ? '' : ` "${family.help}"`}`;

/**
 * prometheus_client writes a counter's or histogram's `_created` gauges only once the metric has
 * a sample: on a side whose metric has none yet, a missing `_created` family is traffic, not shape.
 */
function createdOfUnsampled(name: string, side: ReadonlyMap<string, MetricFamily>): boolean {
  if (!name.endsWith('_created')) return false;
  const base = name.slice(0, -'_created'.length);
  const owner = side.get(base) ?? side.get(`${base}_total`);
  return owner !== undefined && owner.labelSets.size === 0;
}
const sorted = (values: Iterable<string>) => [...values].sort();

/** The differences between two expositions' families; sample values are not compared. */
export function compareMetricsTexts(legacyText: string, reimplText: string): MetricsDifference[] {
  const legacy = parseMetricsText(legacyText);
  const reimpl = parseMetricsText(reimplText);
  const differences: MetricsDifference[] = [];
  for (const [name, a] of legacy) {
    const b = reimpl.get(name);
    if (!b) {
      if (createdOfUnsampled(name, reimpl)) continue;
      differences.push({ steps: [name], kind: 'missing', legacy: describe(a), detail: `metric family ${name} (${a.type}) is missing` });
      continue;
    }
    if (a.type !== b.type) differences.push({ steps: [name, 'type'], kind: 'value', legacy: a.type, reimpl: b.type, detail: `${name} is a ${a.type} on legacy, a ${b.type} on the reimplementation` });
    if (a.help !== b.help) differences.push({ steps: [name, 'help'], kind: 'value', ...(a.help === undefined ? {} : { legacy: a.help }), ...(b.help === undefined ? {} : { reimpl: b.help }), detail: `${name}'s help text differs` });
    // Label names are compared on series both sides have samples of: which series a process has depends on the traffic it served.
    for (const [series, sets] of a.labelSets) {
      const other = b.labelSets.get(series);
      if (!other) continue;
      const left = sorted(sets);
      const right = sorted(other);
      if (left.join('|') !== right.join('|')) {
        differences.push({ steps: [name, 'labels'], kind: 'value', legacy: left.map((set) => `{${set}}`).join(' '), reimpl: right.map((set) => `{${set}}`).join(' '), detail: `${series} is labelled differently` });
      }
    }
    if (a.bounds.size > 0 && b.bounds.size > 0 && sorted(a.bounds).join('|') !== sorted(b.bounds).join('|')) {
      differences.push({ steps: [name, 'buckets'], kind: 'value', legacy: sorted(a.bounds).join(' '), reimpl: sorted(b.bounds).join(' '), detail: `${name} has other buckets or quantiles` });
    }
  }
  for (const [name, b] of reimpl) {
    if (!legacy.has(name) && !createdOfUnsampled(name, legacy)) differences.push({ steps: [name], kind: 'extra', reimpl: describe(b), detail: `metric family ${name} (${b.type}) is not legacy's` });
  }
  return differences;
}
