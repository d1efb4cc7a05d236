/**
 * A counter and a histogram that the serving path updates on every request, at the cost of an
 * increment. prom-client's own `inc` and `observe` hash their label set on every call, even on
 * a child from `labels()`; on the fast lane that was about 3% of the proxy's CPU per request.
 * Here a series is resolved once (`series(labels)`), keeps plain numbers, and reaches the
 * registry only when it is scraped: the counter adds what its series counted since the last
 * scrape through prom-client's public `inc` (in `collect`); the histogram answers its series
 * itself in `getForPromString`, which prom-client's `get` also reads, in the shape its own
 * histograms have (cumulative `le` buckets, then `_sum` and `_count`), so the text format, the
 * JSON and the cluster aggregation read them as any other.
 */
import { Counter, Histogram, type CounterConfiguration, type HistogramConfiguration, type LabelValues, type MetricObjectWithValues, type MetricValueWithName } from 'prom-client';

/** A histogram value as prom-client's text format reads it: its own labels, and those of its series. */
type HistogramValue<T extends string> = MetricValueWithName<T> & { sharedLabels: LabelValues<T>; exemplar: null | undefined };

declare module 'prom-client' {
  interface Histogram<T extends string> {
    getForPromString(): Promise<MetricObjectWithValues<HistogramValue<T>>>;
  }
}

export interface CountedSeries {
  inc(): void;
}

export interface ObservedSeries {
  observe(value: number): void;
}

class CounterSeries<T extends string> implements CountedSeries {
  /** Counted since the last scrape. */
  pending = 0;

  constructor(readonly labels: LabelValues<T>) {}

  inc(): void {
    this.pending++;
  }
}

/** A Counter whose hot series count locally and are added to the counter when it is collected. */
export class HotCounter<T extends string> extends Counter<T> {
  private readonly hot: CounterSeries<T>[] = [];

  constructor(config: CounterConfiguration<T>) {
    const own = config.collect;
    super({
      ...config,
      // prom-client calls collect with the metric as `this`, before every read of its values.
      collect(this: Counter<T>) {
        (this as HotCounter<T>).flush();
        return own?.call(this);
      },
    });
  }

  /** The series of these label values: its `inc` costs an increment. */
  series(labels: LabelValues<T>): CountedSeries {
    const series = new CounterSeries(labels);
    this.hot.push(series);
    return series;
  }

  private flush(): void {
    for (const series of this.hot) {
      if (series.pending === 0) continue;
      const count = series.pending;
      series.pending = 0;
      this.inc(series.labels, count);
    }
  }

  override reset(): void {
    // prom-client's constructor resets the metric before this class's fields exist.
    for (const series of this.hot ?? []) series.pending = 0;
    super.reset();
  }
}

class HistogramSeries<T extends string> implements ObservedSeries {
  /** Observations per bucket (not cumulative); the last is +Inf. */
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: LabelValues<T>,
    private readonly bounds: readonly number[],
  ) {
    this.buckets = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    // A value that is not a number would poison the sum for good: not counted (prom-client throws).
    if (!Number.isFinite(value)) return;
    const { bounds } = this;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index++;
    this.buckets[index]!++;
    this.sum += value;
    this.count++;
  }

  clear(): void {
    this.buckets.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * A Histogram whose hot series keep their buckets themselves and are answered beside the
 * histogram's own series when it is read. A label set is either hot or observed through
 * prom-client's `observe`, never both (it would then be exported twice).
 */
export class HotHistogram<T extends string> extends Histogram<T> {
  private readonly hot: HistogramSeries<T>[] = [];
  private readonly bounds: readonly number[];

  constructor(config: HistogramConfiguration<T> & { buckets: number[] }) {
    super(config);
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }

  /** The series of these label values: its `observe` costs a bucket search and three additions. */
  series(labels: LabelValues<T>): ObservedSeries {
    const series = new HistogramSeries(labels, this.bounds);
    this.hot.push(series);
    return series;
  }

  /**
   * prom-client's registry reads a histogram's values through this method for the text format,
   * and its `get` (the JSON format, the cluster aggregation) splays what this returns: the hot
   * series are added in the shape of prom-client's own (`le` apart, the series' labels shared).
   * Not in prom-client's typings (declared below); tests/proxy/hot-metrics.test.ts holds both
   * formats to what prom-client's own Histogram prints, so an upgrade that changes it fails there.
   */
  override async getForPromString(): Promise<MetricObjectWithValues<HistogramValue<T>>> {
    const own = await super.getForPromString();
    const values = [...own.values];
    for (const series of this.hot) {
      if (series.count === 0) continue;
      let cumulative = 0;
      for (let index = 0; index <= this.bounds.length; index++) {
        cumulative += series.buckets[index]!;
        // `le` is the histogram's own label, which prom-client's types do not list among T.
        const le = { le: index < this.bounds.length ? this.bounds[index]! : '+Inf' } as LabelValues<T>;
        values.push({ labels: le, sharedLabels: series.labels, value: cumulative, metricName: `${own.name}_bucket`, exemplar: null });
      }
      values.push({ labels: {}, sharedLabels: series.labels, value: series.sum, metricName: `${own.name}_sum`, exemplar: undefined });
      values.push({ labels: {}, sharedLabels: series.labels, value: series.count, metricName: `${own.name}_count`, exemplar: undefined });
    }
    return { ...own, values };
  }

  override reset(): void {
    // prom-client's constructor resets the metric before this class's fields exist.
    for (const series of this.hot ?? []) series.clear();
    super.reset();
  }
}

/** One level of SeriesByLabels: the next label's values, or (at the last label) the series. */
type Level = Map<string, Level | object>;

/**
 * The series of a metric by two to four label values, in nested maps keyed by each value: a
 * lookup hashes no new string when the values are strings already hashed (route ids from the
 * catalogue, modes from the flags, literals), where one joined key per call had to be made and
 * hashed. Each series is made once, by `make`. One instance serves one metric, so always the
 * same number of labels (its label names).
 */
export class SeriesByLabels<S extends object> {
  private readonly root: Level = new Map();

  constructor(private readonly make: (...labels: string[]) => S) {}

  at2(a: string, b: string): S {
    const level = this.step(this.root, a);
    return this.leaf(level, b) ?? this.made(level, b, this.make(a, b));
  }

  at3(a: string, b: string, c: string): S {
    const level = this.step(this.step(this.root, a), b);
    return this.leaf(level, c) ?? this.made(level, c, this.make(a, b, c));
  }

  at4(a: string, b: string, c: string, d: string): S {
    const level = this.step(this.step(this.step(this.root, a), b), c);
    return this.leaf(level, d) ?? this.made(level, d, this.make(a, b, c, d));
  }

  private step(level: Level, key: string): Level {
    let next = level.get(key) as Level | undefined;
    if (next === undefined) level.set(key, (next = new Map()));
    return next;
  }

  private leaf(level: Level, key: string): S | undefined {
    return level.get(key) as S | undefined;
  }

  private made(level: Level, key: string, series: S): S {
    level.set(key, series);
    return series;
  }
}
