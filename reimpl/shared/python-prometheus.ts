/**
 * Counters and histograms (prom-client underneath) rendered exactly as Python's
 * prometheus_client 0.16 `generate_latest` writes them, which the legacy gateway's
 * /gateway-metrics and the narrator's /api/v1/metrics serve: labels sorted by name, values as
 * Go-style floats (`2.0`, `1.7e+09`), and the OpenMetrics `_created` samples moved into a gauge
 * family after each metric. prom-client's own text differs in all three, so it only keeps the
 * numbers here.
 */
import { Counter, Histogram } from 'prom-client';
import { floatRepr } from './py-json.js';

type Labels = Record<string, string>;

/** prometheus_client's floatToGoString. */
export function goFloat(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  const s = floatRepr(value);
  const dot = s.indexOf('.');
  // Go switches to exponents sooner than Python (prometheus_client's own comment).
  if (value > 0 && dot > 6) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '');
    return `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function sampleLine(name: string, labels: Labels, value: number): string {
  const keys = Object.keys(labels).sort();
  const text = keys.length ? `{${keys.map((key) => `${key}="${escapeLabel(labels[key]!)}"`).join(',')}}` : '';
  return `${name}${text} ${goFloat(value)}\n`;
}

const labelKey = (labels: Labels) => JSON.stringify(Object.keys(labels).sort().map((key) => [key, labels[key]]));

/** When each label set was first used: prometheus_client's `_created` (seconds since the epoch). */
class CreatedTimes {
  readonly byKey = new Map<string, { labels: Labels; created: number }>();
  touch(labels: Labels): void {
    const key = labelKey(labels);
    if (!this.byKey.has(key)) this.byKey.set(key, { labels: { ...labels }, created: Date.now() / 1000 });
  }
}

interface PyMetric {
  render(): Promise<string>;
}

export class PyCounter implements PyMetric {
  private readonly counter: Counter<string>;
  private readonly created = new CreatedTimes();
  /** `name` ends in `_total`, as legacy declares it. */
  constructor(private readonly name: string, private readonly help: string, labelNames: string[]) {
    this.counter = new Counter({ name, help, labelNames, registers: [] });
  }

  inc(labels: Labels): void {
    this.created.touch(labels);
    this.counter.inc(labels);
  }

  async render(): Promise<string> {
    const base = this.name.replace(/_total$/, '');
    let out = `# HELP ${base}_total ${this.help}\n# TYPE ${base}_total counter\n`;
    const values = (await this.counter.get()).values;
    for (const sample of values) out += sampleLine(`${base}_total`, sample.labels as Labels, sample.value);
    if (this.created.byKey.size === 0) return out;
    out += `# HELP ${base}_created ${this.help}\n# TYPE ${base}_created gauge\n`;
    for (const { labels, created } of this.created.byKey.values()) out += sampleLine(`${base}_created`, labels, created);
    return out;
  }
}

export class PyHistogram implements PyMetric {
  private readonly histogram: Histogram<string>;
  private readonly created = new CreatedTimes();
  /** Python's default buckets. */
  static readonly buckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

  constructor(private readonly name: string, private readonly help: string, labelNames: string[], buckets: readonly number[] = PyHistogram.buckets) {
    this.histogram = new Histogram({ name, help, labelNames, buckets: [...buckets], registers: [] });
  }

  observe(labels: Labels, value: number): void {
    this.created.touch(labels);
    this.histogram.observe(labels, value);
  }

  async render(): Promise<string> {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    const values = (await this.histogram.get()).values;
    // Group prom-client's flat list per label set: buckets, then _count, then _sum, as Python does.
    const groups = new Map<string, { labels: Labels; buckets: string[]; count: number; sum: number }>();
    for (const sample of values) {
      const { le, ...labels } = sample.labels as Labels & { le?: string | number };
      const key = labelKey(labels as Labels);
      if (!groups.has(key)) groups.set(key, { labels: labels as Labels, buckets: [], count: 0, sum: 0 });
      const group = groups.get(key)!;
      const metricName = (sample as { metricName?: string }).metricName;
      if (metricName === `${this.name}_bucket`) {
        const bound = le === '+Inf' ? Infinity : Number(le);
        group.buckets.push(sampleLine(`${this.name}_bucket`, { ...(labels as Labels), le: goFloat(bound) }, sample.value));
      } else if (metricName === `${this.name}_count`) group.count = sample.value;
      else if (metricName === `${this.name}_sum`) group.sum = sample.value;
    }
    for (const group of groups.values()) {
      out += group.buckets.join('');
      out += sampleLine(`${this.name}_count`, group.labels, group.count);
      out += sampleLine(`${this.name}_sum`, group.labels, group.sum);
    }
    if (this.created.byKey.size === 0) return out;
    out += `# HELP ${this.name}_created ${this.help}\n# TYPE ${this.name}_created gauge\n`;
    for (const { labels, created } of this.created.byKey.values()) out += sampleLine(`${this.name}_created`, labels, created);
    return out;
  }
}

/** The whole exposition, metrics in declaration order (prometheus_client's registry order). */
export async function renderPythonExposition(metrics: readonly PyMetric[]): Promise<string> {
  return (await Promise.all(metrics.map((metric) => metric.render()))).join('');
}

/** prometheus_client's CONTENT_TYPE_LATEST. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * What the FastAPI services (sync, narrator) really answer on /metrics: Starlette appends
 * `; charset=utf-8` to every text/* media type, even prometheus_client's, which already has
 * one. Clients of legacy see the doubled charset, so the reimplementation sends it too.
 */
export const FASTAPI_PROMETHEUS_CONTENT_TYPE = `${PROMETHEUS_CONTENT_TYPE}; charset=utf-8`;
