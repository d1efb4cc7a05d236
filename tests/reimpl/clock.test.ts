// The reimplementation's timestamps: legacy's format (naive UTC, microseconds), strictly
// increasing, and never before the wall clock read just before them (a job must not be
// stamped before the request that created it).
import { describe, expect, it } from 'vitest';
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
});
