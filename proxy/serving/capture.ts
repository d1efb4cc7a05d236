/**
 * What the proxy keeps of one side's answer for the comparison: status, headers, latency and
 * the body up to a bound. Bytes past the bound are still read (connections must drain) but
 * not kept, and the capture says it was cut.
 */
import type { Side } from './decide.js';

export interface UpstreamFailure {
  /** Stable code: CUTOVER_ERR_UPSTREAM_UNREACHABLE | _TIMEOUT | _FAILED | _MALFORMED, or CUTOVER_ERR_SHADOW_TIMEOUT when the proxy aborted a shadow copy. */
  code: string;
  message: string;
  /** The answer's status when it failed after its headers (in the body): a timeout there is the taxonomy's timeout-body. */
  afterStatus?: number;
}

/** A failure with the status of the answer it cut short, when the headers had arrived. */
export const failedAfter = (failure: UpstreamFailure | undefined, status: number | undefined): UpstreamFailure | undefined =>
  failure && status !== undefined ? { ...failure, afterStatus: status } : failure;

/** One side's answer as seen by the proxy. */
export interface SideResult {
  side: Side;
  status: number | undefined;
  /** Lower-case name → value (repeated headers joined with ", "). */
  headers: Record<string, string>;
  body: Buffer;
  /** True when the body was longer than the capture bound and `body` holds only its start. */
  truncated: boolean;
  /** Milliseconds from sending the request to the last byte of the answer (or the failure). */
  latencyMs: number;
  failure: UpstreamFailure | undefined;
}

/** Collects body chunks up to `limit` bytes. */
export class BodyCapture {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    if (this.truncated) return;
    const room = this.limit - this.size;
    if (chunk.length > room) {
      if (room > 0) this.chunks.push(chunk.subarray(0, room));
      this.size = this.limit;
      this.truncated = true;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
  }

  /** The body is known to pass the bound (its Content-Length says so): what was kept so far is all that is kept. */
  cut(): void {
    this.truncated = true;
  }
}

/** Header map of a raw undici header list, for comparison (names lower-cased). */
export function headerMap(raw: readonly Buffer[] | readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  return out;
}

/** Maps an undici/socket error to the proxy's stable upstream failure codes. */
export function classifyFailure(error: unknown): UpstreamFailure {
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? String(error);
  if (code === 'CUTOVER_ERR_SHADOW_TIMEOUT') return { code, message };
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') {
    return { code: 'CUTOVER_ERR_UPSTREAM_TIMEOUT', message };
  }
  // An answer llhttp (undici's parser) or the lane's parser refused: the same failure on both paths.
  if (code === 'CUTOVER_ERR_UPSTREAM_MALFORMED' || code === 'CUTOVER_ERR_CLIENT_ABORTED' || code === 'CUTOVER_ERR_UPSTREAM_BUSY') return { code, message };
  if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return { code: 'CUTOVER_ERR_UPSTREAM_MALFORMED', message: `${code}: ${message}` };
  // CUTOVER_ERR_UPSTREAM_UNREACHABLE: an upstream the config gives no URL for (proxy/serving/upstreams.ts).
  if (code === 'CUTOVER_ERR_UPSTREAM_UNREACHABLE' || code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EAI_AGAIN') {
    return { code: 'CUTOVER_ERR_UPSTREAM_UNREACHABLE', message };
  }
  return { code: 'CUTOVER_ERR_UPSTREAM_FAILED', message: code ? `${code}: ${message}` : message };
}
