/**
 * Wrong admin credentials, counted per client address: after `max` wrong tokens (a console
 * sign-in or a Bearer header) within `windowMs`, that address is refused with 429 until the
 * oldest of them leaves the window, whatever it presents, so guessing a token costs a window per
 * `max` guesses. A right token does not clear the count: an attacker holding one token must not
 * be able to reset the budget it spends guessing another. The map is bounded (`maxAddresses`; the
 * address idle longest goes first), so a flood of spoofed sources costs memory once, not without
 * end. Counted per instance: behind a balancer the address is the balancer's unless the admin port
 * sits on a network its clients reach directly, and several instances each count their own.
 */
export interface CredentialFailureLimit {
  /** Wrong credentials an address may present within the window before it is refused. */
  max: number;
  windowMs: number;
  /** Addresses tracked at once. */
  maxAddresses: number;
}

export interface CredentialFailures {
  /** Milliseconds until `address` may try again, or 0 when it may now. */
  retryAfterMs(address: string, now?: number): number;
  /** A wrong credential from `address`. */
  failed(address: string, now?: number): void;
}

export function createCredentialFailures(limit: CredentialFailureLimit): CredentialFailures {
  // Per address, the times of its failures still in the window, oldest first.
  const failures = new Map<string, number[]>();
  const recent = (address: string, now: number): number[] | undefined => {
    const times = failures.get(address);
    if (!times) return undefined;
    while (times.length > 0 && times[0]! <= now - limit.windowMs) times.shift();
    if (times.length === 0) {
      failures.delete(address);
      return undefined;
    }
    return times;
  };
  return {
    retryAfterMs(address, now = Date.now()) {
      const times = recent(address, now);
      if (!times || times.length < limit.max) return 0;
      // Refused until enough failures age out that one more would be within the limit.
      return times[times.length - limit.max]! + limit.windowMs - now;
    },
    failed(address, now = Date.now()) {
      const times = recent(address, now) ?? [];
      times.push(now);
      // Only the newest `max` failures decide when the address may try again.
      if (times.length > limit.max) times.splice(0, times.length - limit.max);
      failures.delete(address);
      failures.set(address, times);
      while (failures.size > limit.maxAddresses) failures.delete(failures.keys().next().value!);
    },
  };
}
