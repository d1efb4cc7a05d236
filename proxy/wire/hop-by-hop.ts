/**
 * Which headers belong to one connection and must not be forwarded (RFC 9110 §7.6.1): the
 * fixed hop-by-hop set plus every header the `Connection` header itself names.
 */

/** Lower-case names that never cross the proxy, in either direction. */
const hopByHop = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Not hop-by-hop in the RFC, but undici refuses it and node answers 100-continue itself.
  'expect',
]);

/** The lengths of the hop-by-hop names: a name of another length is end-to-end without being lower-cased. */
const hopByHopLengths = new Set([...hopByHop].map((name) => name.length));

/**
 * True when the header name `name` is `lower` in any case, without lower-casing it (per header
 * of every message, on the lane's hot path). Sound for token names, which every parser here
 * hands on: for a token character c, `c | 0x20` is a lower-case letter only when c is that
 * letter in either case, and `-` only when c is `-`.
 */
export function sameName(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** Names listed in `Connection` headers of a raw header list (`connection: close, x-private`). */
export function connectionListed(raw: readonly string[]): Set<string> | undefined {
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (sameName(raw[i]!, 'connection')) {
      listed ??= new Set();
      for (const name of raw[i + 1]!.split(',')) {
        const trimmed = name.trim().toLowerCase();
        if (trimmed) listed.add(trimmed);
      }
    }
  }
  return listed;
}

/**
 * The end-to-end headers of a flat raw list ([name, value, name, value...]), names and values
 * byte-for-byte as received, order kept; duplicates (several set-cookie) stay separate.
 */
export function endToEndHeaders(raw: readonly string[]): string[] {
  const listed = connectionListed(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (listed || hopByHopLengths.has(name.length)) {
      const lower = name.toLowerCase();
      if (hopByHop.has(lower) || listed?.has(lower)) continue;
    }
    out.push(name, raw[i + 1]!);
  }
  return out;
}

export function isHopByHop(name: string): boolean {
  return hopByHop.has(name.toLowerCase());
}
