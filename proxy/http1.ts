/**
 * Just enough HTTP/1.1 for the fast lane (fast-lane.ts): where a message head ends, what its
 * start line and headers say, and where its body ends (Content-Length, chunked, or the close
 * of the connection). It parses strictly and declines what it does not fully understand —
 * HTTP/1.0, obsolete line folding, bare LF, conflicting lengths, Upgrade, Expect — so that
 * such a request goes to node:http, whose parser answers it exactly as before. Declining is
 * always safe; guessing is not (request smuggling lives in lenient parsers).
 */

import { connectionListed } from './hop-by-hop.js';

const crlfcrlf = Buffer.from('\r\n\r\n');
/** RFC 9110 token characters, for method and header names. */
const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const requestLine = /^([A-Z]+) (\S+) HTTP\/1\.1$/;
const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;

export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'until-close' };

export interface RequestHead {
  method: string;
  /** Path and query as the client sent them. */
  target: string;
  /** Flat [name, value, ...], names and values as received. */
  rawHeaders: string[];
  framing: BodyFraming;
  /** The client sent `Connection: close`: answer, then close. */
  close: boolean;
  /** Bytes of the head, CRLFCRLF included. */
  size: number;
}

export interface ResponseHead {
  status: number;
  reason: string;
  rawHeaders: string[];
  framing: BodyFraming;
  /** The upstream connection may carry another request after this answer. */
  reusable: boolean;
  size: number;
}

/** node:http's answer to a request it cannot parse, which the lane gives for the same. */
export const badRequestAnswer = 'HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

/** Not a complete head yet (more bytes may complete it). */
export const incomplete = 'incomplete' as const;
/** A head this module does not take: node:http gets it. */
export const declined = 'declined' as const;

interface Lines {
  first: string;
  rawHeaders: string[];
  size: number;
}

function splitHead(buffer: Buffer, maxBytes: number): Lines | typeof incomplete | typeof declined {
  const end = buffer.indexOf(crlfcrlf);
  if (end < 0) return buffer.length > maxBytes ? declined : incomplete;
  if (end + 4 > maxBytes) return declined;
  const text = buffer.toString('latin1', 0, end);
  const lines = text.split('\r\n');
  const rawHeaders: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return declined;
    const name = line.slice(0, colon);
    if (!token.test(name)) return declined;
    const value = line.slice(colon + 1).trim();
    // Bare CR/LF or NUL inside a value is never valid; node:http refuses it with 400.
    if (/[\r\n\0]/.test(value)) return declined;
    rawHeaders.push(name, value);
  }
  if (lines[0]!.includes('\n')) return declined;
  return { first: lines[0]!, rawHeaders, size: end + 4 };
}

/** The numeric Content-Length, or undefined when absent; NaN when invalid or repeated with another value. */
function contentLength(rawHeaders: readonly string[]): number | undefined {
  let length: number | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== 14 || rawHeaders[i]!.toLowerCase() !== 'content-length') continue;
    const value = rawHeaders[i + 1]!;
    if (!/^\d{1,15}$/.test(value)) return Number.NaN;
    const parsed = Number(value);
    if (length !== undefined && length !== parsed) return Number.NaN;
    length = parsed;
  }
  return length;
}

/** The Transfer-Encoding codings, lower case, in order; undefined when absent. */
function transferCodings(rawHeaders: readonly string[]): string[] | undefined {
  let codings: string[] | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== 17 || rawHeaders[i]!.toLowerCase() !== 'transfer-encoding') continue;
    codings ??= [];
    for (const coding of rawHeaders[i + 1]!.split(',')) codings.push(coding.trim().toLowerCase());
  }
  return codings;
}

/** True when the flat raw list holds a header of this (lower-case) name. */
export function hasHeader(rawHeaders: readonly string[], lowerName: string): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.length === lowerName.length && rawHeaders[i]!.toLowerCase() === lowerName) return true;
  return false;
}

/** A request head at the start of `buffer`: parsed, incomplete, or declined (node:http gets it). */
export function parseRequestHead(buffer: Buffer, maxBytes: number): RequestHead | typeof incomplete | typeof declined {
  const lines = splitHead(buffer, maxBytes);
  if (typeof lines === 'string') return lines;
  const match = requestLine.exec(lines.first);
  if (!match || match[1] === 'CONNECT' || !token.test(match[1]!)) return declined;
  const target = match[2]!;
  if (target[0] !== '/') return declined;
  const { rawHeaders } = lines;
  if (hasHeader(rawHeaders, 'upgrade') || hasHeader(rawHeaders, 'expect')) return declined;
  const length = contentLength(rawHeaders);
  const codings = transferCodings(rawHeaders);
  let framing: BodyFraming;
  if (codings !== undefined) {
    // Only a plain `chunked` is taken; with a Content-Length beside it the request is ambiguous (smuggling).
    if (length !== undefined || codings.length !== 1 || codings[0] !== 'chunked') return declined;
    framing = { kind: 'chunked' };
  } else if (length !== undefined && Number.isNaN(length)) {
    return declined;
  } else {
    framing = length ? { kind: 'length', length } : { kind: 'none' };
  }
  return { method: match[1]!, target, rawHeaders, framing, close: connectionListed(rawHeaders)?.has('close') ?? false, size: lines.size };
}

/**
 * A response head at the start of `buffer`, for a request with `method`: parsed, incomplete,
 * or declined (the answer cannot be relayed, and the upstream counts as failed).
 */
export function parseResponseHead(buffer: Buffer, method: string, maxBytes: number): ResponseHead | typeof incomplete | typeof declined {
  const lines = splitHead(buffer, maxBytes);
  if (typeof lines === 'string') return lines;
  const match = statusLine.exec(lines.first);
  if (!match) return declined;
  const status = Number(match[2]);
  const { rawHeaders } = lines;
  const tokens = connectionListed(rawHeaders);
  let reusable = match[1] === '1' ? !tokens?.has('close') : tokens?.has('keep-alive') === true;
  let framing: BodyFraming;
  const codings = transferCodings(rawHeaders);
  const length = contentLength(rawHeaders);
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) {
    framing = { kind: 'none' };
  } else if (codings !== undefined) {
    if (codings[codings.length - 1] === 'chunked') framing = { kind: 'chunked' };
    else {
      framing = { kind: 'until-close' };
      reusable = false;
    }
  } else if (length !== undefined) {
    if (Number.isNaN(length)) return declined;
    framing = length === 0 ? { kind: 'none' } : { kind: 'length', length };
  } else {
    framing = { kind: 'until-close' };
    reusable = false;
  }
  return { status, reason: match[3] ?? '', rawHeaders, framing, reusable, size: lines.size };
}

const enum ChunkState {
  Size,
  SizeLf,
  Extension,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  TrailerLine,
  TrailerLf,
  EndLf,
  Done,
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  return -1;
}

/**
 * Finds where a chunked body ends without changing a byte of it: the relay passes chunks
 * through as they came. `scan` returns the index just past the body's last byte in `chunk`,
 * or -1 when the body goes on; it throws on a malformed chunk framing.
 */
export class ChunkedFramer {
  private state = ChunkState.Size;
  private size = 0;
  private digits = 0;
  private remaining = 0;

  get done(): boolean {
    return this.state === ChunkState.Done;
  }

  scan(chunk: Buffer, from = 0): number {
    let i = from;
    while (i < chunk.length) {
      const byte = chunk[i]!;
      switch (this.state) {
        case ChunkState.Size: {
          const digit = hexValue(byte);
          if (digit >= 0) {
            if (++this.digits > 12) throw new Error('chunk size too long');
            this.size = this.size * 16 + digit;
          } else if (this.digits === 0) {
            throw new Error('chunk size expected');
          } else if (byte === 0x0d) {
            this.state = ChunkState.SizeLf;
          } else if (byte === 0x3b || byte === 0x20 || byte === 0x09) {
            this.state = ChunkState.Extension;
          } else {
            throw new Error('invalid chunk size');
          }
          i++;
          break;
        }
        case ChunkState.Extension:
          if (byte === 0x0d) this.state = ChunkState.SizeLf;
          else if (byte === 0x0a) throw new Error('bare LF in chunk extension');
          i++;
          break;
        case ChunkState.SizeLf:
          if (byte !== 0x0a) throw new Error('CRLF expected after chunk size');
          i++;
          if (this.size === 0) {
            this.state = ChunkState.TrailerStart;
          } else {
            this.remaining = this.size;
            this.state = ChunkState.Data;
          }
          this.size = 0;
          this.digits = 0;
          break;
        case ChunkState.Data: {
          const take = Math.min(this.remaining, chunk.length - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = ChunkState.DataCr;
          break;
        }
        case ChunkState.DataCr:
          if (byte !== 0x0d) throw new Error('CRLF expected after chunk data');
          this.state = ChunkState.DataLf;
          i++;
          break;
        case ChunkState.DataLf:
          if (byte !== 0x0a) throw new Error('CRLF expected after chunk data');
          this.state = ChunkState.Size;
          i++;
          break;
        case ChunkState.TrailerStart:
          if (byte === 0x0d) this.state = ChunkState.EndLf;
          else this.state = ChunkState.TrailerLine;
          i++;
          break;
        case ChunkState.TrailerLine:
          if (byte === 0x0d) this.state = ChunkState.TrailerLf;
          i++;
          break;
        case ChunkState.TrailerLf:
          if (byte !== 0x0a) throw new Error('CRLF expected after a trailer field');
          this.state = ChunkState.TrailerStart;
          i++;
          break;
        case ChunkState.EndLf:
          if (byte !== 0x0a) throw new Error('CRLF expected at the end of a chunked body');
          this.state = ChunkState.Done;
          return i + 1;
        case ChunkState.Done:
          return i;
      }
    }
    return -1;
  }
}

/** Where a body of the given framing ends: tracks bytes seen, whatever the framing. */
export class BodyEnd {
  private readonly chunked: ChunkedFramer | undefined;
  private remaining: number;

  constructor(private readonly framing: BodyFraming) {
    this.chunked = framing.kind === 'chunked' ? new ChunkedFramer() : undefined;
    this.remaining = framing.kind === 'length' ? framing.length : 0;
  }

  /** True once the body is complete (a body framed by the connection's close never is). */
  get complete(): boolean {
    if (this.framing.kind === 'none') return true;
    if (this.chunked) return this.chunked.done;
    return this.framing.kind === 'length' && this.remaining === 0;
  }

  /** How many bytes of `chunk` (from `from`) belong to the body; the rest belongs to what follows. */
  take(chunk: Buffer, from = 0): number {
    if (this.framing.kind === 'until-close') return chunk.length - from;
    if (this.complete) return 0;
    if (this.chunked) {
      const end = this.chunked.scan(chunk, from);
      return (end < 0 ? chunk.length : end) - from;
    }
    const take = Math.min(this.remaining, chunk.length - from);
    this.remaining -= take;
    return take;
  }
}

/**
 * The payload of a chunked body (chunk sizes, extensions and trailers removed), for comparing
 * what was relayed framed. A body cut short (a capture bound) yields what its whole chunks and
 * the started one hold.
 */
export function decodeChunked(framed: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < framed.length) {
    const lineEnd = framed.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = Number.parseInt(framed.toString('latin1', at, lineEnd).split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size === 0) break;
    const start = lineEnd + 2;
    parts.push(framed.subarray(start, Math.min(start + size, framed.length)));
    at = start + size + 2;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Serialises a head: start line, then the flat header list, then the empty line. */
export function serializeHead(startLine: string, rawHeaders: readonly string[]): Buffer {
  let text = `${startLine}\r\n`;
  for (let i = 0; i < rawHeaders.length; i += 2) text += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return Buffer.from(`${text}\r\n`, 'latin1');
}
