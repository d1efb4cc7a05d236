import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyEnd, ChunkedFramer, declined, incomplete, parseRequestHead, parseResponseHead } from '../../proxy/http1.js';

const head = (text: string) => Buffer.from(text, 'latin1');

describe('the fast lane request head parser', () => {
  it('reads method, target, headers as sent and the body framing', () => {
    const parsed = parseRequestHead(head('POST /echo?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Two:  spaced \r\n\r\nhello'), 16384);
    expect(parsed).toMatchObject({ method: 'POST', target: '/echo?a=1', rawHeaders: ['Host', 'x', 'Content-Length', '5', 'X-Two', 'spaced'], framing: { kind: 'length', length: 5 }, close: false });
    expect(parsed !== incomplete && parsed !== declined && parsed.size).toBe(head('POST /echo?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Two:  spaced \r\n\r\n').length);
    expect(parseRequestHead(head('GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'), 16384)).toMatchObject({ framing: { kind: 'chunked' }, close: true });
  });

  it('waits for the rest of a head that is not complete, and declines one over its size limit', () => {
    expect(parseRequestHead(head('GET / HTTP/1.1\r\nHost: x\r\n'), 16384)).toBe(incomplete);
    expect(parseRequestHead(head(`GET / HTTP/1.1\r\nX: ${'a'.repeat(200)}`), 100)).toBe(declined);
  });

  it.each([
    ['HTTP/1.0', 'GET / HTTP/1.0\r\n\r\n'],
    ['an absolute target', 'GET http://x/ HTTP/1.1\r\n\r\n'],
    ['CONNECT', 'CONNECT x:443 HTTP/1.1\r\n\r\n'],
    ['Upgrade', 'GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
    ['Expect', 'POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n'],
    ['Content-Length beside Transfer-Encoding', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['two different Content-Lengths', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n'],
    ['a Transfer-Encoding other than chunked', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'],
    ['a folded header line', 'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n'],
    ['a bare LF', 'GET / HTTP/1.1\nHost: x\r\n\r\n'],
    ['a header name with a space', 'GET / HTTP/1.1\r\nBad Name: x\r\n\r\n'],
    ['a signed Content-Length', 'POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n'],
  ])('declines %s, which node:http then answers as it always did', (_what, text) => {
    expect(parseRequestHead(head(text), 16384)).toBe(declined);
  });
});

describe('the fast lane response head parser', () => {
  it('frames answers by Content-Length, chunks, or the close of the connection', () => {
    expect(parseResponseHead(head('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n'), 'GET', 65536)).toMatchObject({ status: 200, reason: 'OK', framing: { kind: 'length', length: 3 }, reusable: true });
    expect(parseResponseHead(head('HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n'), 'POST', 65536)).toMatchObject({ framing: { kind: 'chunked' }, reusable: true });
    expect(parseResponseHead(head('HTTP/1.1 200 OK\r\n\r\n'), 'GET', 65536)).toMatchObject({ framing: { kind: 'until-close' }, reusable: false });
    expect(parseResponseHead(head('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n'), 'GET', 65536)).toMatchObject({ reusable: false });
    expect(parseResponseHead(head('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n'), 'GET', 65536)).toMatchObject({ reusable: false });
  });

  it('knows that HEAD, 204 and 304 answers have no body whatever their headers say', () => {
    expect(parseResponseHead(head('HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n'), 'HEAD', 65536)).toMatchObject({ framing: { kind: 'none' } });
    expect(parseResponseHead(head('HTTP/1.1 204 No Content\r\n\r\n'), 'GET', 65536)).toMatchObject({ framing: { kind: 'none' }, reusable: true });
    expect(parseResponseHead(head('HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n'), 'GET', 65536)).toMatchObject({ framing: { kind: 'none' } });
  });

  it('declines a status line that is not HTTP/1.x', () => {
    expect(parseResponseHead(head('\x00\x01garbage\r\n\r\n'), 'GET', 65536)).toBe(declined);
    expect(parseResponseHead(head('HTTP/2 200\r\n\r\n'), 'GET', 65536)).toBe(declined);
  });
});

/** A chunked encoding of `pieces`, with optional chunk extensions and trailers. */
function chunked(pieces: readonly Buffer[], extension: boolean, trailers: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    parts.push(Buffer.from(`${piece.length.toString(16)}${extension ? ';name=value' : ''}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\n${trailers.map((trailer) => `${trailer}\r\n`).join('')}\r\n`));
  return Buffer.concat(parts);
}

describe('the chunked framer', () => {
  it('finds the exact end of any chunked body, however the bytes are split, without changing them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)), { maxLength: 8 }),
        fc.boolean(),
        fc.array(fc.constantFrom('X-Checksum: abc', 'Expires: never'), { maxLength: 2 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (pieces, extension, trailers, cuts) => {
          const body = chunked(pieces, extension, trailers);
          const next = Buffer.from('GET /next HTTP/1.1\r\n\r\n');
          const stream = Buffer.concat([body, next]);
          const points = [...new Set(cuts.map((cut) => cut % stream.length))].sort((a, b) => a - b);
          const end = new BodyEnd({ kind: 'chunked' });
          let consumed = 0;
          let start = 0;
          for (const point of [...points, stream.length]) {
            const piece = stream.subarray(start, point);
            start = point;
            if (!end.complete) consumed += end.take(piece);
          }
          expect(end.complete).toBe(true);
          expect(consumed).toBe(body.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a chunk size that is not hex and data without its CRLF', () => {
    expect(() => new ChunkedFramer().scan(Buffer.from('zz\r\n'))).toThrow(/chunk size/);
    expect(() => new ChunkedFramer().scan(Buffer.from('3\r\nabcX'))).toThrow(/CRLF/);
  });
});
