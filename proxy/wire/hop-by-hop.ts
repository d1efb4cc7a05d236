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

/**
 * What a message's `Connection` headers say: `close`, `keep-alive`, and the header names they
 * list that are not hop-by-hop already (those must be dropped too). Read once per head.
 */
export interface ConnectionListing {
  close: boolean;
  keepAlive: boolean;
  names: ReadonlySet<string> | undefined;
}

const unlisted: ConnectionListing = Object.freeze({ close: false, keepAlive: false, names: undefined });
const keepAliveOnly: ConnectionListing = Object.freeze({ close: false, keepAlive: true, names: undefined });
const closeOnly: ConnectionListing = Object.freeze({ close: true, keepAlive: false, names: undefined });

/**
 * The `Connection` headers of a flat raw list (`connection: close, x-private`). The common
 * one-token values (`keep-alive`, `close`) are read without splitting or lower-casing: this
 * runs for every request and answer on the lane.
 */
export function connectionListing(raw: readonly string[]): ConnectionListing {
  let close = false;
  let keepAlive = false;
  let names: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (!sameName(raw[i]!, 'connection')) continue;
    const value = raw[i + 1]!.trim();
    if (sameName(value, 'keep-alive')) keepAlive = true;
    else if (sameName(value, 'close')) close = true;
    else {
      for (const token of value.split(',')) {
        const name = token.trim().toLowerCase();
        if (name === 'close') close = true;
        else if (name === 'keep-alive') keepAlive = true;
        else if (name && !hopByHop.has(name)) (names ??= new Set()).add(name);
      }
    }
  }
  if (names) return { close, keepAlive, names };
  return close ? (keepAlive ? { close, keepAlive, names } : closeOnly) : keepAlive ? keepAliveOnly : unlisted;
}

/** The hop-by-hop names by length: a name is compared case-folded with those of its length, never lower-cased. */
const hopByHopByLength = new Map<number, string[]>();
for (const name of hopByHop) hopByHopByLength.set(name.length, [...(hopByHopByLength.get(name.length) ?? []), name]);

function fixedHopByHop(name: string): boolean {
  const candidates = hopByHopByLength.get(name.length);
  if (!candidates) return false;
  for (const candidate of candidates) if (sameName(name, candidate)) return true;
  return false;
}

/**
 * The end-to-end headers of a flat raw list ([name, value, name, value...]), names and values
 * byte-for-byte as received, order kept; duplicates (several set-cookie) stay separate.
 * `listing`: the list's Connection headers, when the parser read them already.
 */
export function endToEndHeaders(raw: readonly string[], listing: ConnectionListing = connectionListing(raw)): string[] {
  const listed = listing.names;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (fixedHopByHop(name) || (listed && listed.has(name.toLowerCase()))) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}
