// The window the proxy holds both sides' job timestamps to: it opens when the request reached
// the proxy, or, for a job, when the request that created it did, and closes after both answers.
import { describe, expect, it } from 'vitest';
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import type { SideResult } from '../../proxy/serving/capture.js';
import { windowOf, type Exchange } from '../../proxy/observe/observation-recorder.js';

const catalogue = loadRouteCatalogue();
const side = (name: 'legacy' | 'reimpl'): SideResult => ({ side: name, status: 200, headers: {}, body: Buffer.from('{}'), truncated: false, latencyMs: 1, failure: undefined });
const exchange = (routeId: string, at: number, extra: Partial<Exchange> = {}): Exchange => ({
  at: new Date(at),
  route: catalogue.byId(routeId)!,
  service: 'sync',
  method: 'GET',
  path: '/',
  mode: 'shadow',
  serving: side('legacy'),
  shadow: side('reimpl'),
  ...extra,
});

describe('the window of a shadowed exchange', () => {
  it('opens a run’s job window at the run itself', () => {
    expect(windowOf(exchange('sync.gis-export.run', 1000, { method: 'POST' }), 1500)).toEqual({ askedAt: 1000, jobAskedAt: 1000, answeredAt: 1500 });
  });

  it('opens a status read’s job window when the run that created the job reached the proxy', () => {
    const correlations = [{ name: 'job_id', routeId: 'sync.gis-export.run', servingSide: 'legacy' as const, servingId: 'A', shadowId: 'B', askedAt: 400 }];
    expect(windowOf(exchange('sync.gis-export.status', 1000, { correlations }), 1500)).toEqual({ askedAt: 1000, jobAskedAt: 400, answeredAt: 1500 });
  });

  it('leaves the job window open at the start when no correlation says when the job was made (a list of older jobs)', () => {
    expect(windowOf(exchange('sync.gis-export.list', 1000), 1500)).toEqual({ askedAt: 1000, answeredAt: 1500 });
  });
});
