import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectionListing, endToEndHeaders } from '../../proxy/wire/hop-by-hop.js';
import { BodyEnd, ChunkedFramer, declined, incomplete, parseRequestHead, parseResponseHead, tooLarge } from '../../proxy/wire/http1.js';

const head = (text: string) => Buffer.from(text, 'latin1');

describe('the fast lane request head parser', () => {
  it('reads method, target, headers as sent and the body framing', () => {
    const parsed = parseRequestHead(head('POST /echo?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Two:  spaced \r\n\r\nhello'), 16384);
    expect(parsed).toMatchObject({ method: 'POST', target: '/echo?a=1', rawHeaders: ['Host', 'x', 'Content-Length', '5', 'X-Two', 'spaced'], framing: { kind: 'length', length: 5 }, close: false });
    expect(typeof parsed === 'object' && !('refused' in parsed) && parsed.size).toBe(head('POST /echo?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Two:  spaced \r\n\r\n').length);
    expect(parseRequestHead(head('GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'), 16384)).toMatchObject({ framing: { kind: 'chunked' }, close: true });
  });

  it('strips only spaces and tabs around a value, as llhttp does, and keeps the other bytes node:http accepts', () => {
    expect(parseRequestHead(head('GET / HTTP/1.1\r\nHost: x\r\nX: \t\xa0a\xa0 \t\r\n\r\n'), 16384)).toMatchObject({ rawHeaders: ['Host', 'x', 'X', '\xa0a\xa0'] });
  });

  it('reads framing and hop-by-hop header names in any case, and no other name as one of them', () => {
    expect(parseRequestHead(head('POST / HTTP/1.1\r\nhOsT: x\r\nCONTENT-length: 2\r\n\r\nhi'), 16384)).toMatchObject({ framing: { kind: 'length', length: 2 } });
    expect(parseRequestHead(head('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\ncontent-LENGTH: 2\r\n\r\n'), 16384)).toMatchObject({ refused: expect.stringMatching(/more than one Content-Length/) });
    expect(parseRequestHead(head('GET / HTTP/1.1\r\nHost: x\r\nCONNECTION: Close\r\n\r\n'), 16384)).toMatchObject({ close: true });
    // Same length, one character apart: the case-folding compare is not a length check.
    expect(parseRequestHead(head('POST / HTTP/1.1\r\nHost: x\r\nContent-Lengtx: 2\r\n\r\n'), 16384)).toMatchObject({ framing: { kind: 'none' } });
    expect(endToEndHeaders(['Keep-Alive', 'timeout=5', 'Keep-Alivf', 'kept', 'TE', 'trailers', 'X-Private', '1', 'Connection', 'x-private'])).toEqual(['Keep-Alivf', 'kept']);
  });

  it('reads Connection headers once: close and keep-alive in any case, and the names they list beyond the fixed hop-by-hop set', () => {
    expect(connectionListing(['Connection', 'Keep-Alive'])).toEqual({ close: false, keepAlive: true, names: undefined });
    expect(connectionListing(['connection', 'CLOSE'])).toEqual({ close: true, keepAlive: false, names: undefined });
    expect(connectionListing(['Connection', 'close, X-Private , te', 'CONNECTION', 'keep-alive'])).toEqual({ close: true, keepAlive: true, names: new Set(['x-private']) });
    expect(connectionListing(['Connectiox', 'close'])).toEqual({ close: false, keepAlive: false, names: undefined });
    // A listed name is dropped in any case; a name one character from a hop-by-hop one is kept.
    expect(endToEndHeaders(['X-PRIVATE', '1', 'Connectioo', 'kept', 'Connection', 'x-private', 'Proxy-Connection', 'keep-alive'])).toEqual(['Connectioo', 'kept']);
    // The answer head keeps what its parser read, so the lane drops by that listing.
    const answer = parseResponseHead(head('HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nContent-Length: 0\r\n\r\n'), 'GET', 16384);
    if (typeof answer !== 'object' || 'refused' in answer) throw new Error('not parsed');
    expect([answer.reusable, endToEndHeaders(answer.rawHeaders, answer.connection)]).toEqual([true, ['Content-Length', '0']]);
  });

  it('waits for the rest of a head that is not complete, and says when one is over its size limit, complete or not', () => {
    expect(parseRequestHead(head('GET / HTTP/1.1\r\nHost: x\r\n'), 16384)).toBe(incomplete);
    expect(parseRequestHead(head(`GET / HTTP/1.1\r\nX: ${'a'.repeat(200)}`), 100)).toBe(tooLarge);
    expect(parseRequestHead(head(`GET / HTTP/1.1\r\nX: ${'a'.repeat(200)}\r\n\r\n`), 100)).toBe(tooLarge);
  });

  it.each([
    ['HTTP/1.0', 'GET / HTTP/1.0\r\n\r\n'],
    ['an absolute target', 'GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['CONNECT', 'CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a method the lane does not take', 'PROPFIND / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['Upgrade', 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
    ['Expect', 'POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n'],
  ])('declines %s, which node:http then answers as it always did', (_what, text) => {
    expect(parseRequestHead(head(text), 16384)).toBe(declined);
  });

  it.each([
    ['Connection naming Content-Length', 'POST /health HTTP/1.1\r\nHost: x\r\nConnection: content-length\r\nContent-Length: 3\r\n\r\n', /Connection names the framing header content-length/],
    ['Connection naming Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n', /Connection names/],
    ['Content-Length beside Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', /beside/],
    ['two different Content-Lengths', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', /more than one Content-Length/],
    ['a Transfer-Encoding other than chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', /other than chunked/],
    ['two Transfer-Encodings', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', /more than one Transfer-Encoding/],
    ['a folded header line', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n', /folding/],
    ['a bare LF in the start line', 'GET / HTTP/1.1\nHost: x\r\n\r\n', /bare CR or LF/],
    ['a bare LF in a header', 'GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n', /control character/],
    ['a bare CR in a header', 'GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n', /control character/],
    ['a control character in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n', /control character/],
    ['DEL in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\x7fb\r\n\r\n', /control character/],
    ['a vertical tab around a value', 'GET / HTTP/1.1\r\nHost: x\r\nX: \x0ba\r\n\r\n', /control character/],
    ['a header name with a space', 'GET / HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n', /not a token/],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n', /not a token/],
    ['a signed Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n', /invalid Content-Length/],
    ['no Host', 'GET / HTTP/1.1\r\n\r\n', /no Host/],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', /more than one Host/],
  ])('refuses %s', (_what, text, reason) => {
    const parsed = parseRequestHead(head(text), 16384);
    expect(parsed).toMatchObject({ refused: expect.stringMatching(reason) });
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

  it('refuses an answer whose end two parsers could read differently (response splitting)', () => {
    expect(parseResponseHead(head('HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 3\r\n\r\n'), 'GET', 65536)).toMatchObject({ refused: expect.stringMatching(/Connection names/) });
    expect(parseResponseHead(head('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'), 'GET', 65536)).toMatchObject({ refused: expect.stringMatching(/beside/) });
    expect(parseResponseHead(head('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n'), 'GET', 65536)).toMatchObject({ refused: expect.stringMatching(/more than one/) });
    expect(parseResponseHead(head('HTTP/1.1 200 OK\r\nX: a\nSet-Cookie: injected\r\n\r\n'), 'GET', 65536)).toMatchObject({ refused: expect.stringMatching(/control character/) });
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

  it.each([
    ['a bare LF after the size', '3\nabc\r\n0\r\n\r\n'],
    ['a bare LF after the data', '3\r\nabc\n0\r\n\r\n'],
    ['a bare CR in an extension', '3;a\rb\r\nabc\r\n0\r\n\r\n'],
    ['a space after the size', '3 \r\nabc\r\n0\r\n\r\n'],
    ['an empty extension', '3;\r\nabc\r\n0\r\n\r\n'],
    ['a bare LF ending a trailer', '3\r\nabc\r\n0\r\nX: y\n\r\n'],
    ['a trailer without a colon', '3\r\nabc\r\n0\r\nXY\r\n\r\n'],
    ['a folded trailer', '3\r\nabc\r\n0\r\nX: a\r\n b\r\n\r\n'],
    ['a control character in a trailer', '3\r\nabc\r\n0\r\nX: a\x01\r\n\r\n'],
    ['a Content-Length trailer', '3\r\nabc\r\n0\r\nContent-Length: 5\r\n\r\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => new ChunkedFramer().scan(Buffer.from(text, 'latin1'))).toThrow();
  });

  it('hands out the payload of each chunk, extensions and trailers left out', () => {
    const data: string[] = [];
    const framed = Buffer.from('3;a=b;c\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: v\r\n\r\nnext', 'latin1');
    const end = new ChunkedFramer().scan(framed, 0, (chunk, start, stop) => data.push(chunk.toString('latin1', start, stop)));
    expect(data.join('')).toBe('abc0123456789');
    expect(framed.toString('latin1', end)).toBe('next');
  });
});
