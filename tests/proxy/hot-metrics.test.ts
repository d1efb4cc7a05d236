import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotHistogram, SeriesByLabels } from '../../proxy/observe/hot-metrics.js';

const buckets = [0.001, 0.01, 0.1, 1];
const labelNames = ['service', 'side'] as const;

describe('the hot counter and histogram', () => {
  it("print exactly what prom-client's own Counter and Histogram print for the same observations", async () => {
    const plainRegistry = new Registry();
    const hotRegistry = new Registry();
    const config = { name: 'x_seconds', help: 'x', labelNames, buckets };
    const plain = new Histogram({ ...config, registers: [plainRegistry] });
    const hot = new HotHistogram({ ...config, registers: [hotRegistry] });
    const counterConfig = { name: 'x_total', help: 'x', labelNames };
    const plainCounter = new Counter({ ...counterConfig, registers: [plainRegistry] });
    const hotCounter = new HotCounter({ ...counterConfig, registers: [hotRegistry] });
    const legacy = hot.series({ service: 'sync', side: 'legacy' });
    const reimpl = hot.series({ service: 'sync', side: 'reimpl' });
    const counted = hotCounter.series({ service: 'sync', side: 'legacy' });
    // On a bound, between bounds, above the last, and zero.
    for (const value of [0.001, 0.0005, 0.05, 0.05, 3, 0]) {
      plain.observe({ service: 'sync', side: 'legacy' }, value);
      legacy.observe(value);
      plainCounter.inc({ service: 'sync', side: 'legacy' });
      counted.inc();
    }
    plain.observe({ service: 'sync', side: 'reimpl' }, 0.2);
    reimpl.observe(0.2);
    expect(await hotRegistry.metrics()).toBe(await plainRegistry.metrics());
    // Counted after a scrape: added to what the counter already had, not lost or counted twice.
    plainCounter.inc({ service: 'sync', side: 'legacy' });
    counted.inc();
    expect(await hotRegistry.metrics()).toBe(await plainRegistry.metrics());
    expect(await hotRegistry.metrics()).toContain('x_total{service="sync",side="legacy"} 7');
    expect(await hotRegistry.getMetricsAsJSON()).toEqual(await plainRegistry.getMetricsAsJSON());
  });

  it('count nothing for a series that saw nothing, and start again from zero after a reset', async () => {
    const registry = new Registry();
    const hot = new HotHistogram({ name: 'y_seconds', help: 'y', labelNames, buckets, registers: [registry] });
    hot.series({ service: 'sync', side: 'legacy' });
    const seen = hot.series({ service: 'sync', side: 'reimpl' });
    seen.observe(0.5);
    seen.observe(Number.NaN);
    const before = await registry.metrics();
    expect(before).not.toContain('side="legacy"');
    expect(before).toContain('y_seconds_count{service="sync",side="reimpl"} 1');
    expect(before).toContain('y_seconds_sum{service="sync",side="reimpl"} 0.5');
    hot.reset();
    expect(await registry.metrics()).not.toContain('y_seconds_count');
  });

  it('find each series by its label values, made once per distinct values, apart at every level', () => {
    const made: string[][] = [];
    const series = new SeriesByLabels((...labels: string[]) => {
      made.push(labels);
      return { labels };
    });
    const first = series.at4('sync', 'sync.items', 'shadow', 'legacy');
    expect(series.at4('sync', 'sync.items', 'shadow', 'legacy')).toBe(first);
    // One value apart at each level, and values that a joined key would have run together.
    const others = [
      series.at4('gateway', 'sync.items', 'shadow', 'legacy'),
      series.at4('sync', 'sync.parcels', 'shadow', 'legacy'),
      series.at4('sync', 'sync.items', 'canary', 'legacy'),
      series.at4('sync', 'sync.items', 'shadow', 'reimpl'),
      series.at4('sync', 'sync.items', 'shadowlegacy', ''),
    ];
    expect(new Set([first, ...others]).size).toBe(6);
    expect(made).toEqual([
      ['sync', 'sync.items', 'shadow', 'legacy'],
      ['gateway', 'sync.items', 'shadow', 'legacy'],
      ['sync', 'sync.parcels', 'shadow', 'legacy'],
      ['sync', 'sync.items', 'canary', 'legacy'],
      ['sync', 'sync.items', 'shadow', 'reimpl'],
      ['sync', 'sync.items', 'shadowlegacy', ''],
    ]);
    // One depth per instance, as each metric has its one set of label names.
    const pairs = new SeriesByLabels((...labels: string[]) => ({ labels }));
    expect(pairs.at2('a', 'b')).toBe(pairs.at2('a', 'b'));
    const triples = new SeriesByLabels((...labels: string[]) => ({ labels }));
    expect(triples.at3('a', 'b', 'c')).not.toBe(triples.at3('a', 'b', 'd'));
  });
});
