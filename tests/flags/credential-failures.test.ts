import { describe, expect, it } from 'vitest';
import { createCredentialFailures } from '../../flags/credential-failures.js';

describe('credential failures per address', () => {
  const limit = { max: 3, windowMs: 60_000, maxAddresses: 2 };

  it('lets an address try until its failures within the window reach the limit, then says how long to wait', () => {
    const failures = createCredentialFailures(limit);
    failures.failed('a', 0);
    failures.failed('a', 10_000);
    expect(failures.retryAfterMs('a', 10_000)).toBe(0);
    failures.failed('a', 20_000);
    // The oldest of the three leaves the window at 60 s; from then one more guess is within the limit.
    expect(failures.retryAfterMs('a', 20_000)).toBe(40_000);
    expect(failures.retryAfterMs('a', 59_999)).toBe(1);
    expect(failures.retryAfterMs('a', 60_000)).toBe(0);
  });

  it('waits for the newest failures when an address keeps guessing past the limit', () => {
    const failures = createCredentialFailures(limit);
    for (const at of [0, 1_000, 2_000, 30_000, 31_000]) failures.failed('a', at);
    expect(failures.retryAfterMs('a', 31_000)).toBe(2_000 + 60_000 - 31_000);
  });

  it('holds at most maxAddresses, forgetting the one that failed longest ago', () => {
    const failures = createCredentialFailures(limit);
    for (const address of ['a', 'b']) for (let at = 0; at < 3; at++) failures.failed(address, at);
    failures.failed('a', 5);
    failures.failed('c', 6);
    expect(failures.retryAfterMs('a', 10)).toBeGreaterThan(0);
    expect(failures.retryAfterMs('b', 10)).toBe(0);
  });
});
