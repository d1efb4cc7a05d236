/**
 * Just enough HTTP/1.1 for the fast lane (fast-lane.ts): where a message head ends, what its
 * start line and headers say, and where its body ends (Content-Length, chunked, or the close
 * of the connection). It parses strictly (RFC 9112). A head it does not serve itself —
 * HTTP/1.0, a method or target form it does not take, Upgrade, Expect — is declined and goes
 * to node:http, whose parser answers it exactly as before. A head or chunk framing that two
 * parsers could read differently — a bare CR or LF, obsolete line folding, a control
 * character in a value, a header name that is not a token, and whatever framing.ts refuses —
 * is refused: 400 and the connection closed, never handed on (request smuggling lives in
 * lenient parsers and in the gap between two of them).
 */

import { checkFraming, forbiddenInValue, isRefusal, type FramingRefusal } from './framing.js';
import { connectionListing, sameName, type ConnectionListing } from './hop-by-hop.js';

const crlfcrlf = Buffer.from('\r\n\r\n');
/** The methods the lane takes (llhttp knows more; those go to node:http). */
const laneMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']);

/** RFC 9110 token characters, by byte (method names, header names, chunk extensions). */
const tokenByte = new Uint8Array(256);
for (const char of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") tokenByte[char.charCodeAt(0)] = 1;

export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'until-close' };

export interface RequestHead {
  method: string;
  /** Path and query as the client sent them. */
  target: string;
  /** Flat [name, value, ...], names as received, values without their surrounding spaces and tabs. */
  rawHeaders: string[];
  framing: BodyFraming;
  /** The client sent `Connection: close`: answer, then close. */
  close: boolean;
  /** Its Connection headers, read once: what is dropped as hop-by-hop. */
  connection: ConnectionListing;
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
  /** Its Connection headers, read once: what is dropped as hop-by-hop. */
  connection: ConnectionListing;
  size: number;
}

/** Not a complete head yet (more bytes may complete it). */
export const incomplete = 'incomplete' as const;
/** A head this module does not take: node:http gets it. */
export const declined = 'declined' as const;
/** A head longer than its bound (a request's: proxy.maxHeaderBytes, answered 431). */
export const tooLarge = 'too-large' as const;

export type { FramingRefusal };

interface Lines {
  first: string;
  rawHeaders: string[];
  size: number;
}

const isOws = (code: number) => code === 0x20 || code === 0x09;

/**
 * Reads the field line `text[start, end)` into `out` as name and value (its optional
 * whitespace stripped: spaces and tabs only, as llhttp does), or answers why it is refused: no
 * name and colon, obsolete line folding, a name that is not a token, or a control character
 * other than HTAB (a bare CR or LF included) or DEL in the value (RFC 9110 §5.5). One pass over
 * the line's characters: this runs for every header of every request and answer on the lane.
 */
function readField(text: string, start: number, end: number, out: string[]): string | undefined {
  let at = start;
  while (at < end && tokenByte[text.charCodeAt(at)] === 1) at++;
  if (at === start) {
    if (isOws(text.charCodeAt(start))) return 'obsolete line folding';
    return 'a header line without a name and a colon';
  }
  if (at === end || text.charCodeAt(at) !== 0x3a) {
    const colon = text.indexOf(':', at);
    if (colon < 0 || colon >= end) return 'a header line without a name and a colon';
    for (let i = at; i < colon; i++) if (text.charCodeAt(i) === 0x0d || text.charCodeAt(i) === 0x0a) return 'a bare CR or LF in the head';
    return 'a header name that is not a token';
  }
  const name = text.slice(start, at);
  let valueStart = at + 1;
  let valueEnd = end;
  while (valueStart < valueEnd && isOws(text.charCodeAt(valueStart))) valueStart++;
  while (valueEnd > valueStart && isOws(text.charCodeAt(valueEnd - 1))) valueEnd--;
  for (let i = valueStart; i < valueEnd; i++) if (forbiddenInValue(text.charCodeAt(i))) return `a control character in the value of ${name}`;
  out.push(name, text.slice(valueStart, valueEnd));
  return undefined;
}

/** One `name: value` field line, or why it is refused (a chunked body's trailer). */
function fieldLine(line: string): [string, string] | FramingRefusal {
  const field: string[] = [];
  const refused = readField(line, 0, line.length, field);
  return refused === undefined ? [field[0]!, field[1]!] : { refused };
}

function splitHead(buffer: Buffer, maxBytes: number): Lines | typeof incomplete | typeof tooLarge | FramingRefusal {
  // Only the first maxBytes are searched: a head that long is refused whatever follows.
  const end = buffer.indexOf(crlfcrlf);
  if (end < 0) return buffer.length > maxBytes ? tooLarge : incomplete;
  if (end + 4 > maxBytes) return tooLarge;
  const text = buffer.toString('latin1', 0, end);
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = text.length;
  const first = text.slice(0, lineEnd);
  if (first.includes('\r') || first.includes('\n')) return { refused: 'a bare CR or LF in the start line' };
  const rawHeaders: string[] = [];
  for (let start = lineEnd + 2; start <= text.length; ) {
    let next = text.indexOf('\r\n', start);
    if (next < 0) next = text.length;
    const refused = readField(text, start, next, rawHeaders);
    if (refused !== undefined) return { refused };
    start = next + 2;
  }
  return { first, rawHeaders, size: end + 4 };
}

/**
 * The method and target of an origin-form HTTP/1.1 request line with a method the lane takes
 * and a printable-ASCII target, or undefined (the head is declined: node:http reads it).
 */
function requestLine(line: string): [method: string, target: string] | undefined {
  const space = line.indexOf(' ');
  if (space < 0 || !line.endsWith(' HTTP/1.1')) return undefined;
  const method = line.slice(0, space);
  if (!laneMethods.has(method)) return undefined;
  const targetEnd = line.length - 9;
  if (targetEnd <= space + 1 || line.charCodeAt(space + 1) !== 0x2f) return undefined;
  for (let i = space + 1; i < targetEnd; i++) {
    const code = line.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return undefined;
  }
  return [method, line.slice(space + 1, targetEnd)];
}

/** An HTTP/1.x status line: its minor version, status and reason (tabs, printable ASCII and obs-text), or undefined. */
function statusLine(line: string): [minor: number, status: number, reason: string] | undefined {
  if (line.length < 12 || !line.startsWith('HTTP/1.') || line.charCodeAt(8) !== 0x20) return undefined;
  const minor = line.charCodeAt(7) - 0x30;
  if (minor !== 0 && minor !== 1) return undefined;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const digit = line.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    status = status * 10 + digit;
  }
  if (line.length === 12) return [minor, status, ''];
  if (line.charCodeAt(12) !== 0x20) return undefined;
  for (let i = 13; i < line.length; i++) if (forbiddenInValue(line.charCodeAt(i))) return undefined;
  return [minor, status, line.slice(13)];
}

/** True when the flat raw list holds a header of this (lower-case) name. */
export function hasHeader(rawHeaders: readonly string[], lowerName: string): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) if (sameName(rawHeaders[i]!, lowerName)) return true;
  return false;
}

/**
 * A request head at the start of `buffer`: parsed, incomplete, declined (node:http gets it), or
 * refused (the client gets 400 and the connection closes).
 */
export function parseRequestHead(buffer: Buffer, maxBytes: number): RequestHead | typeof incomplete | typeof declined | typeof tooLarge | FramingRefusal {
  const lines = splitHead(buffer, maxBytes);
  if (typeof lines === 'string' || isRefusal(lines)) return lines;
  const line = requestLine(lines.first);
  if (!line) return declined;
  const { rawHeaders } = lines;
  const checked = checkFraming(rawHeaders, { request: true, http11: true, valuesChecked: true });
  if (isRefusal(checked)) return checked;
  if (hasHeader(rawHeaders, 'upgrade') || hasHeader(rawHeaders, 'expect')) return declined;
  const framing: BodyFraming = checked.chunked ? { kind: 'chunked' } : checked.length ? { kind: 'length', length: checked.length } : { kind: 'none' };
  const connection = connectionListing(rawHeaders);
  return { method: line[0], target: line[1], rawHeaders, framing, close: connection.close, connection, size: lines.size };
}

/**
 * A response head at the start of `buffer`, for a request with `method`: parsed, incomplete,
 * declined (not HTTP/1.x, or too large) or refused (ambiguous framing, response splitting):
 * either way the answer cannot be relayed, and the upstream counts as failed.
 */
export function parseResponseHead(buffer: Buffer, method: string, maxBytes: number): ResponseHead | typeof incomplete | typeof declined | FramingRefusal {
  const lines = splitHead(buffer, maxBytes);
  if (lines === tooLarge) return declined;
  if (typeof lines === 'string' || isRefusal(lines)) return lines;
  const line = statusLine(lines.first);
  if (!line) return declined;
  const [minor, status, reason] = line;
  const { rawHeaders } = lines;
  const checked = checkFraming(rawHeaders, { request: false, http11: minor === 1, valuesChecked: true });
  if (isRefusal(checked)) return checked;
  const connection = connectionListing(rawHeaders);
  let reusable = minor === 1 ? !connection.close : connection.keepAlive;
  let framing: BodyFraming;
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) {
    framing = { kind: 'none' };
  } else if (checked.chunked) {
    framing = { kind: 'chunked' };
  } else if (checked.length !== undefined) {
    framing = checked.length === 0 ? { kind: 'none' } : { kind: 'length', length: checked.length };
  } else {
    framing = { kind: 'until-close' };
    reusable = false;
  }
  return { status, reason, rawHeaders, framing, reusable, connection, size: lines.size };
}

const emptyBuffer = Buffer.alloc(0);

/** Most bytes of an upstream answer's head the proxy reads; a longer one is malformed (502). */
export const maxResponseHeadBytes = 64 * 1024;

/**
 * Methods whose request may be sent once more when its kept-alive connection was closed under
 * it before any answer byte (RFC 9110 §9.2.2), as undici does: the lane's serving requests and
 * the shadow copies, when they carry no body.
 */
export const idempotentMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * Reads an upstream answer's head as its bytes arrive, across chunks, skipping 1xx interim
 * answers (the proxy relays none: node:http answers 100-continue itself, Expect never takes
 * the lane, and undici skipped them for shadow copies). After a head, `buffer` holds the bytes
 * read so far and `bodyStart` where the body begins in them.
 */
export class ResponseHeadReader {
  private held: Buffer = emptyBuffer;
  buffer: Buffer = emptyBuffer;
  bodyStart = 0;

  constructor(
    private readonly method: string,
    private readonly maxBytes = maxResponseHeadBytes,
  ) {}

  /** True once bytes of a head not yet complete were read (a cut then is not a cut before the answer). */
  get started(): boolean {
    return this.held.length > 0;
  }

  /** The final head, `incomplete` until more bytes come, or why the answer cannot be relayed (a phrase: "sent a ..."). */
  read(chunk: Buffer): ResponseHead | typeof incomplete | string {
    const buffer = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const head = parseResponseHead(start === 0 ? buffer : buffer.subarray(start), this.method, this.maxBytes);
      if (head === incomplete) {
        this.held = start === 0 ? buffer : buffer.subarray(start);
        return incomplete;
      }
      if (head === declined) return 'sent a malformed answer head';
      if ('refused' in head) return `sent an answer that cannot be framed unambiguously: ${head.refused}`;
      start += head.size;
      if (head.status >= 200) {
        this.held = emptyBuffer;
        this.buffer = buffer;
        this.bodyStart = start;
        return head;
      }
    }
  }
}

const enum ChunkState {
  Size,
  SizeLf,
  ExtensionName,
  ExtensionValueStart,
  ExtensionValue,
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

/** Most bytes of trailer fields a chunked body may carry. */
const maxTrailerBytes = 16 * 1024;

/** Called with each run of payload bytes of a chunked body: `chunk[start, end)`. */
export type ChunkData = (chunk: Buffer, start: number, end: number) => void;

/**
 * Finds where a chunked body ends, strictly (RFC 9112 §7.1): hex sizes, `;name[=value]`
 * extensions of tokens, CRLF everywhere, trailer fields that are valid field lines and name no
 * framing header. `scan` returns the index just past the body's last byte in `chunk`, or -1
 * when the body goes on; it throws on anything else. Given `onData`, it also hands out the
 * payload, so that the caller can write the framing itself.
 */
export class ChunkedFramer {
  private state = ChunkState.Size;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private nameBytes = 0;
  private trailerLine = '';
  private trailerBytes = 0;

  get done(): boolean {
    return this.state === ChunkState.Done;
  }

  scan(chunk: Buffer, from = 0, onData?: ChunkData): number {
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
          } else if (byte === 0x3b) {
            this.nameBytes = 0;
            this.state = ChunkState.ExtensionName;
          } else {
            throw new Error('invalid chunk size');
          }
          i++;
          break;
        }
        case ChunkState.ExtensionName:
          if (tokenByte[byte]) this.nameBytes++;
          else if (this.nameBytes === 0) throw new Error('chunk extension name expected');
          else if (byte === 0x3d) this.state = ChunkState.ExtensionValueStart;
          else if (byte === 0x3b) this.nameBytes = 0;
          else if (byte === 0x0d) this.state = ChunkState.SizeLf;
          else throw new Error('invalid chunk extension');
          i++;
          break;
        case ChunkState.ExtensionValueStart:
          if (!tokenByte[byte]) throw new Error('chunk extension value expected');
          this.state = ChunkState.ExtensionValue;
          i++;
          break;
        case ChunkState.ExtensionValue:
          if (tokenByte[byte]) {
            // more of the value
          } else if (byte === 0x3b) {
            this.nameBytes = 0;
            this.state = ChunkState.ExtensionName;
          } else if (byte === 0x0d) {
            this.state = ChunkState.SizeLf;
          } else {
            throw new Error('invalid chunk extension value');
          }
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
          onData?.(chunk, i, i + take);
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
          if (byte === 0x0d) {
            this.state = ChunkState.EndLf;
            i++;
            break;
          }
          this.trailerLine = '';
          this.state = ChunkState.TrailerLine;
          break;
        case ChunkState.TrailerLine:
          if (byte === 0x0d) this.state = ChunkState.TrailerLf;
          else if (byte === 0x0a) throw new Error('bare LF in a trailer field');
          else if (++this.trailerBytes > maxTrailerBytes) throw new Error('trailer fields too large');
          else this.trailerLine += String.fromCharCode(byte);
          i++;
          break;
        case ChunkState.TrailerLf: {
          if (byte !== 0x0a) throw new Error('CRLF expected after a trailer field');
          const refusal = trailerRefusal(this.trailerLine);
          if (refusal) throw new Error(refusal);
          this.state = ChunkState.TrailerStart;
          i++;
          break;
        }
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

/** Why a trailer field line is refused, or undefined: the same rules as a head's field lines, and no framing header. */
function trailerRefusal(line: string): string | undefined {
  const field = fieldLine(line);
  if (!Array.isArray(field)) return field.refused;
  const checked = checkFraming(field, { request: false, http11: true });
  if (isRefusal(checked)) return `${checked.refused} in a trailer`;
  if (checked.chunked || checked.length !== undefined) return 'a framing header in a trailer';
  return undefined;
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

  /**
   * How many bytes of `chunk` (from `from`) belong to the body; the rest belongs to what
   * follows. A chunked body's payload goes to `onData` when given; it throws on broken framing.
   */
  take(chunk: Buffer, from = 0, onData?: ChunkData): number {
    if (this.framing.kind === 'until-close') return chunk.length - from;
    if (this.complete) return 0;
    if (this.chunked) {
      const end = this.chunked.scan(chunk, from, onData);
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
