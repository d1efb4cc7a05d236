import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canaryBucket, inCanary, stickyKey } from '../../proxy/serving/canary.js';
import { decide } from '../../proxy/serving/decide.js';
import { testCatalogue } from './harness.js';
import type { FlagSnapshot } from '../../flags/flag.js';

const route = testCatalogue.byId('sync.health')!;
const canaryAt = (percent: number): FlagSnapshot => ({
  flags: new Map([[route.id, { routeId: route.id, mode: 'canary', percent }]]),
  killSwitch: false,
  state: 'live',
  loadedAt: new Date(),
});
const key = (value: string) => () => ({ source: 'header' as const, value });

describe('canary stickiness', () => {
  it('always sends the same key to the same side', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 100 }), (value, percent) => {
        const first = decide(route, canaryAt(percent), key(value));
        const again = decide(route, canaryAt(percent), key(value));
        expect(again.serving).toBe(first.serving);
        expect(first.shadow).toBe(first.serving === 'reimpl' ? 'legacy' : 'reimpl');
      }),
    );
  });

  it('keeps a key on the reimplementation when the share grows (no flapping back to legacy)', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (value, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        if (inCanary(value, low)) expect(inCanary(value, high)).toBe(true);
      }),
    );
  });

  it('serves the configured share from the reimplementation over many keys, within 2 points', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 99 }), fc.integer(), (percent, salt) => {
        const keys = 20_000;
        let served = 0;
        for (let i = 0; i < keys; i++) if (decide(route, canaryAt(percent), key(`user-${salt}-${i}`)).serving === 'reimpl') served++;
        expect(Math.abs((served / keys) * 100 - percent)).toBeLessThan(2);
      }),
      { numRuns: 20 },
    );
  });

  it('spreads buckets over 0..9999', () => {
    const buckets = new Set(Array.from({ length: 50_000 }, (_, i) => canaryBucket(`k${i}`)));
    expect(buckets.size).toBeGreaterThan(9_900);
  });
});

describe('the sticky key', () => {
  const request = (headers: Record<string, string>, url = '/x', body?: string) => ({
    headers,
    url,
    remoteAddress: '10.0.0.9',
    body: body === undefined ? undefined : Buffer.from(body),
  });
  const jwt = (claims: object) => `Bearer e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

  it('prefers the JWT subject, decoded without verification', () => {
    expect(stickyKey(request({ authorization: jwt({ sub: 'alice' }) }, '/x?county_id=benton_wa'), 'x-key')).toEqual({ source: 'jwt-sub', value: 'alice' });
  });

  it('uses the Flask session user when there is no token', () => {
    const payload = Buffer.from(JSON.stringify({ username: 'bob' })).toString('base64url');
    expect(stickyKey(request({ cookie: `theme=dark; session=${payload}.ZZ.sig` }), 'x-key')).toEqual({ source: 'session-user', value: 'bob' });
  });

  it('falls back to county_id from the query, then from a JSON body, then the header, then the client address', () => {
    expect(stickyKey(request({}, '/x?county_id=benton_wa'), 'x-key').value).toBe('benton_wa');
    expect(stickyKey(request({}, '/x', '{"county_id":"franklin_wa"}'), 'x-key').value).toBe('franklin_wa');
    expect(stickyKey(request({ 'x-key': 'tenant-7' }), 'x-key')).toEqual({ source: 'header', value: 'tenant-7' });
    expect(stickyKey(request({}, '/x', 'not json'), 'x-key')).toEqual({ source: 'client-address', value: '10.0.0.9' });
  });
});
