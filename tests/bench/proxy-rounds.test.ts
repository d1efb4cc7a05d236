import { describe, expect, it } from 'vitest';
import { formatBench, meetsTarget, ratio, type BenchRow } from '../../bench/bench-report.js';
import { mergeRounds } from '../../bench/proxy.js';

const round = (nginx: number, proxy: number, passP99: number, shadowP99: number): BenchRow[] => [
  { metric: 'pass-through req/s', baselineLabel: 'nginx', baseline: nginx, candidateLabel: 'proxy', candidate: proxy, higherIsBetter: true, target: 0.6 },
  { metric: 'serving p99 ms at 40% of saturated shadow req/s', baselineLabel: 'proxy-pass', baseline: passP99, candidateLabel: 'proxy-shadow', candidate: shadowP99, higherIsBetter: false, target: 1.1 },
];

describe('the proxy bench merging its rounds', () => {
  it('reports each row as the median of the rounds, every round kept for the spread', () => {
    const [throughput, p99] = mergeRounds([round(100, 70, 3, 3.2), round(120, 50, 4, 40), round(90, 60, 3.5, 3.6)]);
    expect(throughput).toMatchObject({ baseline: 100, candidate: 60, runs: { baseline: [100, 120, 90], candidate: [70, 50, 60] } });
    // One wild round (40 ms) moves the median no more than one place: 3.6 ms, not the mean's 15.6.
    expect(p99).toMatchObject({ baseline: 3.5, candidate: 3.6 });
    expect(ratio(p99!)).toBeCloseTo(3.6 / 3.5, 6);
    expect(meetsTarget(p99!)).toBe(true);
    expect(formatBench({ name: 'proxy', rows: [throughput!, p99!], notes: [] })).toContain('proxy 60.00 (50.00–70.00)');
  });

  it('keeps a single round as it was, with no spread', () => {
    const [throughput] = mergeRounds([round(100, 70, 3, 3.2)]);
    expect(throughput).toEqual(round(100, 70, 3, 3.2)[0]);
  });
});
