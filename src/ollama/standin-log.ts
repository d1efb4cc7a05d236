/**
 * The stand-in's record of what it was sent. Parity tests compare what the legacy narrator
 * and its TypeScript reimplementation sent to Ollama, byte for byte, so the raw body is kept
 * exactly as received, next to its parsed JSON.
 */

/** One request as the stand-in received it. */
export interface ReceivedRequest {
  /** Order of arrival, from 1; survives `clear()` so late arrivals are never mistaken for early ones. */
  seq: number;
  method: string;
  /** Path without the query string. */
  path: string;
  query: string;
  headers: Record<string, string>;
  /** The exact bytes of the body. */
  rawBody: Buffer;
  /** The body decoded as UTF-8. */
  body: string;
  /** The body parsed as JSON; null when it is empty or not JSON. */
  json: unknown;
  /** ISO-8601 UTC arrival time. */
  receivedAt: string;
}

/** The JSON form served by GET /_standin/received: the raw bytes travel as base64. */
export type ReceivedRequestJson = Omit<ReceivedRequest, 'rawBody'> & { rawBodyBase64: string };

export class RequestLog {
  #entries: ReceivedRequest[] = [];
  #seq = 0;

  /** Keeps the newest `limit` requests: a stand-in under `cutover up` runs for hours. */
  constructor(private readonly limit = 10_000) {}

  record(entry: Omit<ReceivedRequest, 'seq'>): ReceivedRequest {
    const recorded = { ...entry, seq: ++this.#seq };
    this.#entries.push(recorded);
    if (this.#entries.length > this.limit) this.#entries.splice(0, this.#entries.length - this.limit);
    return recorded;
  }

  /** A copy: callers may keep it while more requests arrive. */
  all(): ReceivedRequest[] {
    return [...this.#entries];
  }

  clear(): void {
    this.#entries = [];
  }

  toJson(): ReceivedRequestJson[] {
    return this.#entries.map(({ rawBody, ...rest }) => ({ ...rest, rawBodyBase64: rawBody.toString('base64') }));
  }
}

/** Turns the HTTP form back into the in-process form (for tests in another process). */
export function fromJson(entry: ReceivedRequestJson): ReceivedRequest {
  const { rawBodyBase64, ...rest } = entry;
  return { ...rest, rawBody: Buffer.from(rawBodyBase64, 'base64') };
}
