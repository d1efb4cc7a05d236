/**
 * Naive UTC timestamps with microseconds, as legacy's `datetime.utcnow().isoformat()` writes
 * them (terrafusion_sync/timefmt.py): `2025-05-15T20:49:04.385874`, no zone, and, exactly as
 * isoformat() does, no fraction at all when the microseconds are zero.
 *
 * The microseconds come from hrtime offset by an origin taken once; the wall clock decides the
 * millisecond. An origin taken on a busy machine (descheduled between reading the two clocks,
 * and Date.now() cut to the millisecond) runs early, and a job stamped before the request that
 * created it is what the parity engine's window check rightly calls a mismatch: whenever the
 * offset clock falls behind the wall clock it is moved up to it. Whenever it runs ahead of the
 * wall clock's millisecond (the wall clock was stepped back: NTP, a VM restored), it is moved
 * back to it, as legacy's utcnow() follows the wall clock, and a stamp after the answer that
 * shows it would be a mismatch too; only the strict increase within the process may keep it ahead.
 */
let originNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
let lastNs = 0n;

/** Now, naive UTC ISO-8601 with microseconds; strictly increasing within the process, inside the wall clock's millisecond unless that increase needs more. */
export function utcNowIso(): string {
  // The wall clock first: whatever hrtime reads next is no earlier than this millisecond.
  const wallNs = BigInt(Date.now()) * 1_000_000n;
  let ns = process.hrtime.bigint() + originNs;
  if (ns < wallNs) {
    // Moved up to the start of the wall clock's millisecond: later, never ahead of the true time.
    originNs += wallNs - ns;
    ns = wallNs;
  } else if (ns >= wallNs + 1_000_000n) {
    originNs -= ns - wallNs;
    ns = wallNs;
  }
  if (ns <= lastNs) ns = lastNs + 1000n;
  lastNs = ns;
  const ms = Number(ns / 1_000_000n);
  const micros = Number((ns / 1000n) % 1_000_000n);
  const seconds = new Date(ms).toISOString().slice(0, 19);
  return micros === 0 ? seconds : `${seconds}.${String(micros).padStart(6, '0')}`;
}
