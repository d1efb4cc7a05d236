/**
 * Differential conformance of a proxy front door against llhttp (issue 9 item 3), shared by
 * tests/proxy/conformance.test.ts and the reliability run (tests/reliability/run.ts): the same
 * bytes, split at the same points, go to a plain node:http server (the reference: what llhttp
 * parses from them) and through the proxy to a recording upstream. The upstream must see
 * exactly the requests the reference parsed — method, target, end-to-end headers and body — or
 * the client got a 4xx and the upstream saw no more than the requests before it.
 */
import fc from 'fast-check';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { answerHalfClosedClients } from '../../proxy/transport/front-door.js';

/** A request as a server's llhttp parsed it: what the comparison looks at. */
export interface Parsed {
  method: string;
  url: string;
  /** `name: value` of the end-to-end headers, names lower-cased, in order (framing and hop-by-hop ones left out: the proxy writes those). */
  headers: string[];
  body: string;
}

export interface RecordingServer {
  port: number;
  seen: Parsed[];
  close(): Promise<void>;
}

/** Left out of the comparison: hop-by-hop, framing, and what the proxy adds. */
const notCompared = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'content-length', 'x-forwarded-for']);

function parsedOf(method: string, url: string, rawHeaders: readonly string[], body: Buffer): Parsed {
  const listed = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection') for (const token of rawHeaders[i + 1]!.split(',')) listed.add(token.trim().toLowerCase());
  }
  const headers: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!notCompared.has(name) && !listed.has(name)) headers.push(`${name}: ${rawHeaders[i + 1]}`);
  }
  return { method, url, headers, body: body.toString('latin1') };
}

/** A node:http server that records every request it parses whole and answers it `ok`. */
export async function startRecordingServer(): Promise<RecordingServer> {
  const seen: Parsed[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push(parsedOf(req.method!, req.url!, req.rawHeaders, Buffer.concat(chunks)));
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
    });
  });
  // A half-closing client (the driver below) gets every request answered, as the proxy's doors do: node:http's default aborts them.
  answerHalfClosedClients(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Writes `bytes` on one connection, cut at `cuts` (each piece its own write, the event loop
 * turned between them), half-closes, and resolves with what came back once the server closed;
 * `stalled` when it did not within `deadlineMs`.
 */
export function exchangeBytes(port: number, bytes: Buffer, cuts: readonly number[], deadlineMs = 5000): Promise<{ answer: string; stalled: boolean }> {
  const points = [...new Set(cuts.map((cut) => (bytes.length === 0 ? 0 : cut % bytes.length)))].filter((cut) => cut > 0).sort((a, b) => a - b);
  return new Promise((resolve) => {
    let answer = '';
    let settled = false;
    const socket = connect(port, '127.0.0.1');
    const finish = (stalled: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ answer, stalled });
    };
    const timer = setTimeout(() => finish(true), deadlineMs);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', () => finish(false));
    socket.on('error', () => undefined);
    socket.on('connect', async () => {
      let start = 0;
      for (const point of [...points, bytes.length]) {
        if (socket.destroyed) return;
        socket.write(bytes.subarray(start, point));
        start = point;
        await new Promise((next) => setImmediate(next));
      }
      if (!socket.destroyed) socket.end();
    });
  });
}

/** The status codes of the answers in a raw answer stream. */
export function statusesOf(answer: string): number[] {
  return [...answer.matchAll(/(?:^|\r\n|[}\w])HTTP\/1\.[01] (\d{3}) /g)].map((match) => Number(match[1]));
}

/** Fields of different names may be reordered (undici sends Host first); the order of one name's fields is kept (RFC 9110 §5.3). */
const key = (parsed: Parsed) => JSON.stringify({ ...parsed, headers: [...parsed.headers].sort((a, b) => (a.split(':')[0]! < b.split(':')[0]! ? -1 : a.split(':')[0]! > b.split(':')[0]! ? 1 : 0)) });

function sameMultiset(a: readonly Parsed[], b: readonly Parsed[]): boolean {
  if (a.length !== b.length) return false;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.every((value, i) => value === right[i]);
}

export interface Verdict {
  ok: boolean;
  /** What the reference server answered the same bytes (its 4xx say llhttp refused them). */
  referenceAnswer?: string;
  /** `same`: the upstream saw what llhttp parsed; `refused`: a 4xx, and the upstream saw a prefix of it. */
  kind: 'same' | 'refused' | 'different' | 'stalled';
  reference: Parsed[];
  upstream: Parsed[];
  answer: string;
}

/**
 * The property for one case. Order is compared as a multiset: after a hand-over, node:http
 * starts pipelined requests as it parses them and an upstream may see them in another order
 * (decision 0016); the client's answers stay in order.
 */
export function judge(reference: readonly Parsed[], upstream: readonly Parsed[], answer: string, stalled: boolean): Verdict {
  const result = (kind: Verdict['kind'], ok: boolean): Verdict => ({ ok, kind, reference: [...reference], upstream: [...upstream], answer });
  if (stalled) return result('stalled', false);
  // undici adds a Host of its own (the upstream's address) to an HTTP/1.0 request that had none; the generated ones never name it.
  const comparable = upstream.map((parsed) => ({ ...parsed, headers: parsed.headers.filter((header) => !/^host: 127\.0\.0\.1:\d+$/.test(header)) }));
  if (sameMultiset(comparable, reference)) return result('same', true);
  const refused = statusesOf(answer).some((status) => status >= 400 && status < 500);
  if (refused) {
    for (let k = 0; k <= reference.length; k++) if (sameMultiset(comparable, reference.slice(0, k))) return result('refused', true);
  }
  return result('different', false);
}

const ows = fc.constantFrom('', ' ', '\t', '  ');
/** Field value characters llhttp accepts, obs-text and inner spaces and tabs included. */
const value = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '=', ',', ';', '"', '/', ' ', '\t', '\xa0', '\xe9', '\xff'), maxLength: 10 });
const headerName = fc.constantFrom('X-Case', 'x-lower', 'Accept', 'X-Dup', 'Cookie', 'X-Forwarded-Host', 'Authorization');
const extraHeaders = fc
  .array(fc.tuple(headerName, ows, value, ows), { maxLength: 4 })
  .map((headers) => headers.map(([name, before, text, after]) => `${name}:${before}${text}${after}\r\n`).join(''));
const path = fc.constantFrom('/health', '/echo', '/items/7', '/no/route', '/health?a=1&b=%20x', '/items/%2E%2E', '/echo#frag', "/x!$&'()*+,;=:@~");
const host = fc.constantFrom('Host: proxy.test\r\n', 'host: proxy.test\r\n', 'HOST:proxy.test \r\n');
const body = fc.string({ unit: fc.constantFrom('a', 'b', '{', '}', '"', ':', ' ', '\r', '\n', '\x00', '\xff'), maxLength: 40 });

const getLike = fc
  .tuple(fc.constantFrom('GET', 'HEAD', 'DELETE', 'OPTIONS'), path, host, extraHeaders, fc.constantFrom('', 'Connection: keep-alive\r\n', 'Connection: close\r\n', 'Content-Length: 0\r\n'))
  .map(([method, target, hostLine, headers, extra]) => `${method} ${target} HTTP/1.1\r\n${hostLine}${headers}${extra}\r\n`);

const withLength = fc
  .tuple(fc.constantFrom('POST', 'PUT', 'PATCH'), path, host, extraHeaders, body, fc.constantFrom('', '0', '00'))
  .map(([method, target, hostLine, headers, payload, zeros]) => `${method} ${target} HTTP/1.1\r\n${hostLine}${headers}Content-Length: ${zeros}${Buffer.byteLength(payload, 'latin1')}\r\n\r\n${payload}`);

const chunkedBody = fc
  .tuple(fc.array(body.filter((piece) => piece.length > 0), { maxLength: 4 }), fc.constantFrom('', ';a', ';a=b', ';a=b;c'), fc.constantFrom('', 'X-T: v\r\n', 'X-T: v\r\nX-U:w\r\n'), fc.constantFrom(false, true))
  .map(([pieces, extension, trailers, upper]) => {
    const size = (n: number) => (upper ? n.toString(16).toUpperCase() : n.toString(16));
    return `${pieces.map((piece) => `${size(piece.length)}${extension}\r\n${piece}\r\n`).join('')}0\r\n${trailers}\r\n`;
  });
const chunked = fc
  .tuple(fc.constantFrom('POST', 'PUT'), path, host, extraHeaders, chunkedBody, fc.constantFrom('chunked', 'Chunked', 'CHUNKED'))
  .map(([method, target, hostLine, headers, framed, coding]) => `${method} ${target} HTTP/1.1\r\n${hostLine}${headers}Transfer-Encoding: ${coding}\r\n\r\n${framed}`);

/** Valid requests node:http serves in its own way: HTTP/1.0, methods and targets the lane hands over, Expect. */
const edge = fc.constantFrom(
  'GET /health HTTP/1.0\r\n\r\n',
  'GET /health HTTP/1.0\r\nConnection: keep-alive\r\nHost: proxy.test\r\n\r\n',
  'POST /echo HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc',
  'PROPFIND /health HTTP/1.1\r\nHost: proxy.test\r\n\r\n',
  'GET http://proxy.test/health HTTP/1.1\r\nHost: proxy.test\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi',
  'GET /health HTTP/1.1\r\nHost: proxy.test\r\nX-Empty:\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n',
  `GET /health HTTP/1.1\r\nHost: proxy.test\r\nX-Long: ${'v'.repeat(3000)}\r\n\r\n`,
);

const smuggledGet = 'GET /smuggled HTTP/1.1\r\nHost: proxy.test\r\n\r\n';
/** Malformed requests and the published smuggling families (CL.TE, TE.CL, TE.TE obfuscations, CL.0, Connection-named framing). */
const malformed = fc.constantFrom(
  // CL.TE and TE.CL
  `POST /echo HTTP/1.1\r\nHost: proxy.test\r\nContent-Length: ${5 + smuggledGet.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggledGet}`,
  `POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${smuggledGet.length.toString(16)}\r\n${smuggledGet}\r\n0\r\n\r\n`,
  // TE.TE obfuscations
  `POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\nTransfer-encoding: cow\r\n\r\n0\r\n\r\n${smuggledGet}`,
  `POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${smuggledGet}`,
  `POST /echo HTTP/1.1\r\nHost: proxy.test\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggledGet}`,
  `POST /echo HTTP/1.1\r\nHost: proxy.test\r\nX: y\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggledGet}`,
  `POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n${smuggledGet}`,
  `POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggledGet}`,
  `POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${smuggledGet}`,
  `POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n${smuggledGet}`,
  `POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggledGet}`,
  `POST /echo HTTP/1.0\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggledGet}`,
  // CL.0 (a body the server must read as a body) and Connection naming the framing header (the confirmed case)
  `GET /health HTTP/1.1\r\nHost: proxy.test\r\nContent-Length: ${smuggledGet.length}\r\n\r\n${smuggledGet}`,
  `POST /health HTTP/1.1\r\nHost: proxy.test\r\nConnection: content-length\r\nContent-Length: ${smuggledGet.length}\r\n\r\n${smuggledGet}`,
  `POST /echo HTTP/1.1\r\nHost: proxy.test\r\nConnection: close, Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggledGet}`,
  // Lengths
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nContent-Length: +3\r\n\r\nabc',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nContent-Length: 3, 3\r\n\r\nabc',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nContent-Length: \r\n\r\n',
  // Line structure and characters
  'GET /health HTTP/1.1\nHost: proxy.test\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: proxy.test\nX: y\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: proxy.test\rX: y\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: proxy.test\r\nX: a\r\n b\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: proxy.test\r\nX: a\x01b\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: proxy.test\r\nX: a\x7f\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: proxy.test\r\nX: \x0ca\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: proxy.test\r\nX: a\x00\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: proxy.test\r\nBad Name: x\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: proxy.test\r\nX(y): x\r\n\r\n',
  'GET /health HTTP/1.1\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
  'get /health HTTP/1.1\r\nHost: proxy.test\r\n\r\n',
  'FOO /health HTTP/1.1\r\nHost: proxy.test\r\n\r\n',
  'GET /he\x01lth HTTP/1.1\r\nHost: proxy.test\r\n\r\n',
  'GET /h\xe9 HTTP/1.1\r\nHost: proxy.test\r\n\r\n',
  'GET  /health HTTP/1.1\r\nHost: proxy.test\r\n\r\n',
  'GET /health HTTP/1.2\r\nHost: proxy.test\r\n\r\n',
  'GET /health HTTP/2.0\r\nHost: proxy.test\r\n\r\n',
  // Chunk framing and trailers
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n3;a\rb\r\nabc\r\n0\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n3;\r\nabc\r\n0\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n3;a="b c"\r\nabc\r\n0\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n3;=b\r\nabc\r\n0\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX: y\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nXY\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nContent-Length: 5\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: proxy.test\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000003\r\nabc\r\n0\r\n\r\n',
);

/** One message: valid (most), an edge case, or malformed. */
export const message = fc.oneof({ arbitrary: getLike, weight: 4 }, { arbitrary: withLength, weight: 3 }, { arbitrary: chunked, weight: 2 }, { arbitrary: edge, weight: 1 }, { arbitrary: malformed, weight: 3 });

/** A connection's bytes: 1-4 pipelined messages, and where to cut them. */
export const connectionCase = fc.record({
  messages: fc.array(message, { minLength: 1, maxLength: 4 }),
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
});

/** Bytes that are not a request: a valid message mutated at random (bytes replaced, inserted, cut), or noise. */
export const fuzzedBytes = fc.oneof(
  fc.tuple(message, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('replace', 'insert', 'delete')), { minLength: 1, maxLength: 4 })).map(([text, edits]) => {
    const bytes = [...Buffer.from(text, 'latin1')];
    for (const [at, byte, how] of edits) {
      const i = at % Math.max(1, bytes.length);
      if (how === 'replace') bytes[i] = byte;
      else if (how === 'insert') bytes.splice(i, 0, byte);
      else bytes.splice(i, 1);
    }
    return Buffer.from(bytes);
  }),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  malformed.map((text) => Buffer.from(text, 'latin1')),
);

/** Runs one case against the reference and the proxy; both recorders are emptied first. */
export async function runCase(reference: RecordingServer, upstream: RecordingServer, proxyPort: number, bytes: Buffer, cuts: readonly number[]): Promise<Verdict> {
  reference.seen.length = 0;
  upstream.seen.length = 0;
  const { answer: referenceAnswer } = await exchangeBytes(reference.port, bytes, cuts);
  const { answer, stalled } = await exchangeBytes(proxyPort, bytes, cuts);
  return { ...judge(reference.seen, upstream.seen, answer, stalled), referenceAnswer };
}
