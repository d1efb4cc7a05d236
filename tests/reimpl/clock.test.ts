// The reimplementation's timestamps: legacy's format (naive UTC, microseconds), strictly
// increasing, and never before the wall clock read just before them (a job must not be
// stamped before the request that created it).
import { describe, expect, it, vi } from 'vitest';
import { utcNowIso } from '../../reimpl/shared/clock.js';

describe('the reimplementation clock', () => {
  it('never stamps a time before the wall clock’s millisecond, nor after the next one, and keeps increasing', () => {
    let previous = '';
    for (let i = 0; i < 2000; i++) {
      const before = Date.now();
      const stamp = utcNowIso();
      const after = Date.now();
      expect(stamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$/);
      const at = Date.parse(`${stamp}Z`);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThan(after + 1);
      expect(stamp > previous).toBe(true);
      previous = stamp;
    }
  });

  it('follows the wall clock when it is stepped back, going on from its last stamp until the wall clock passes it', async () => {
    const parse = (stamp: string) => Date.parse(`${stamp}Z`);
    const real = Date.now.bind(Date);
    const before = utcNowIso();
    const wall = vi.spyOn(Date, 'now').mockImplementation(() => real() - 50);
    try {
      const during = utcNowIso();
      // Still increasing, but it did not carry on 50 ms ahead of the wall clock's new time.
      expect(during > before).toBe(true);
      expect(parse(during) - parse(before)).toBeLessThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 80));
      const from = Date.now();
      const after = utcNowIso();
      const to = Date.now();
      // The stepped wall clock has passed the last stamp by now: the stamp is its time again, not the 50 ms ahead hrtime alone would give.
      expect(parse(after)).toBeGreaterThanOrEqual(from);
      expect(parse(after)).toBeLessThan(to + 1);
    } finally {
      wall.mockRestore();
    }
  });
});
