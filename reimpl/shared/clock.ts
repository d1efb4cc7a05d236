/**
 * Naive UTC timestamps with microseconds, as legacy's `datetime.utcnow().isoformat()` writes
 * them (terrafusion_sync/timefmt.py): `2025-05-15T20:49:04.385874`, no zone, and, exactly as
 * isoformat() does, no fraction at all when the microseconds are zero.
 */
const originNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
let lastNs = 0n;

/** Now, naive UTC ISO-8601 with microseconds; strictly increasing within the process. */
export function utcNowIso(): string {
  let ns = process.hrtime.bigint() + originNs;
  if (ns <= lastNs) ns = lastNs + 1000n;
  lastNs = ns;
  const ms = Number(ns / 1_000_000n);
  const micros = Number((ns / 1000n) % 1_000_000n);
  const seconds = new Date(ms).toISOString().slice(0, 19);
  return micros === 0 ? seconds : `${seconds}.${String(micros).padStart(6, '0')}`;
}
