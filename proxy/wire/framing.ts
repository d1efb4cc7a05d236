/**
 * The one check of a message's framing headers (RFC 9112 §6), shared by both transports: the
 * fast lane runs it on the heads it parses (http1.ts), the node:http path on what llhttp
 * parsed (front-door.ts, forward.ts for answers). A message whose end two parsers could read
 * differently is refused — a request with 400 and a closed connection, an answer with 502 —
 * never passed on: request smuggling and response splitting live in the gap between parsers.
 *
 * llhttp (node 20) already refuses bare CR/LF, obs-fold, control characters, Content-Length
 * beside Transfer-Encoding and repeated Content-Lengths; it lets through a `Connection` that
 * names a framing header (the proxy would then drop that header as hop-by-hop and the
 * upstream would read the body as the next request), codings before `chunked`, and
 * Transfer-Encoding on HTTP/1.0. This check refuses all of them on both paths.
 */
import { STATUS_CODES } from 'node:http';
import { errorCodes } from '../../src/errors.js';
import { sameName } from './hop-by-hop.js';

/** Lower-case names of the headers that say where a message ends. */
const framingHeaders = new Set(['content-length', 'transfer-encoding']);
/** A byte a field value (or a status line's reason) may not hold (RFC 9110 §5.5): a control other than HTAB, or DEL. */
export function forbiddenInValue(code: number): boolean {
  return (code < 0x20 && code !== 0x09) || code === 0x7f;
}

function holdsForbidden(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (forbiddenInValue(value.charCodeAt(i))) return true;
  return false;
}
const digits = /^\d{1,15}$/;

/** What the message's framing headers say, once they passed the check. */
export interface FramingHeaders {
  /** The Content-Length, when one was given. */
  length: number | undefined;
  /** True when the body is chunked (`Transfer-Encoding: chunked`, alone). */
  chunked: boolean;
}

/** The message is refused; `reason` says why, in words for the error body and the log. */
export interface FramingRefusal {
  refused: string;
}

/**
 * Checks a flat raw header list ([name, value, ...], values as parsed) of a request
 * (`host` required, HTTP/1.1) or an answer: the framing it declares, or why it is refused.
 * `valuesChecked`: the parser already refused control characters in the values.
 */
export function checkFraming(rawHeaders: readonly string[], message: { request: boolean; http11: boolean; valuesChecked?: boolean }): FramingHeaders | FramingRefusal {
  // The fast lane's parser (http1.ts) refuses control characters as it reads each value; llhttp's headers are checked here.
  const checkValues = message.valuesChecked !== true;
  let length: number | undefined;
  let codings: string | undefined;
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    if (checkValues && holdsForbidden(value)) return { refused: `a control character in the value of ${name}` };
    switch (name.length) {
      case 4:
        if (sameName(name, 'host')) hosts++;
        break;
      case 10:
        // The common one-token values name no header: read without splitting.
        if (sameName(name, 'connection') && !sameName(value, 'keep-alive') && !sameName(value, 'close')) {
          for (const token of value.split(',')) {
            const listed = token.trim().toLowerCase();
            if (framingHeaders.has(listed)) return { refused: `Connection names the framing header ${listed}` };
          }
        }
        break;
      case 14:
        if (sameName(name, 'content-length')) {
          if (length !== undefined) return { refused: 'more than one Content-Length' };
          if (!digits.test(value)) return { refused: `an invalid Content-Length (${JSON.stringify(value)})` };
          length = Number(value);
        }
        break;
      case 17:
        if (sameName(name, 'transfer-encoding')) {
          if (codings !== undefined) return { refused: 'more than one Transfer-Encoding' };
          codings = value;
        }
        break;
    }
  }
  // More than one Host is refused whatever the version (RFC 9112 §3.2); none only in HTTP/1.1.
  if (message.request && (hosts > 1 || (message.http11 && hosts === 0))) return { refused: hosts === 0 ? 'no Host header' : 'more than one Host header' };
  if (codings !== undefined) {
    if (length !== undefined) return { refused: 'Content-Length beside Transfer-Encoding' };
    if (!message.http11) return { refused: 'Transfer-Encoding in an HTTP/1.0 message' };
    if (codings.toLowerCase() !== 'chunked') return { refused: `a Transfer-Encoding other than chunked (${JSON.stringify(codings)})` };
  }
  return { length, chunked: codings !== undefined };
}

/**
 * Why a request target is refused, or undefined: origin-form (`/path?query`) and an absolute
 * http(s) URL are forwarded; anything else llhttp lets through (another scheme, `*`, an
 * authority) has no origin server to reach behind a front door: 400, not a 502 from the forwarder.
 */
export function targetRefusal(target: string): string | undefined {
  if (target.startsWith('/')) return undefined;
  if (/^https?:\/\/[^/?#\s]+(?:[/?][^\s]*)?$/i.test(target) && URL.canParse(target)) return undefined;
  return `a request target that is neither a path nor an http(s) URL (${JSON.stringify(target.slice(0, 60))})`;
}

export function isRefusal<T extends object>(checked: T | FramingRefusal): checked is FramingRefusal {
  return (checked as Partial<FramingRefusal>).refused !== undefined;
}

/** Codes of the requests the proxy refuses itself, before or instead of sending them upstream. */
export type RefusalCode = 'CUTOVER_ERR_REQUEST_MALFORMED' | 'CUTOVER_ERR_REQUEST_HEADERS_TOO_LARGE' | 'CUTOVER_ERR_REQUEST_HEADERS_TIMEOUT' | 'CUTOVER_ERR_REQUEST_TIMEOUT';

/** The JSON body of a refused request, with its stable code; `reason` says why (a framing refusal's words, or a bound). */
export function refusalBody(reason: string, code: RefusalCode = 'CUTOVER_ERR_REQUEST_MALFORMED'): string {
  const message = code === 'CUTOVER_ERR_REQUEST_MALFORMED' ? `the proxy refused a request it cannot frame unambiguously: ${reason}` : `the proxy refused the request: ${reason}`;
  return JSON.stringify({ code, message, hint: errorCodes[code].hint });
}

/** The whole answer to a refused request (the connection closes after it), as bytes on the wire. */
export function refusalAnswer(reason: string, code: RefusalCode = 'CUTOVER_ERR_REQUEST_MALFORMED'): string {
  const body = refusalBody(reason, code);
  const status = errorCodes[code].status;
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
