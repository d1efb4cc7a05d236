/**
 * The upstreams of the reliability run's load scenarios, each its own process so a fault can
 * be a real one (SIGKILL) and its work stays off the load driver's event loop:
 *
 * - `answering`: a read route's answer, the same bytes for the same path every time (the
 *   legacy stand-in, and a healthy shadow: both answer alike, so shadowed requests match);
 * - `hung`: accepts connections and reads them, never answers;
 * - `slow`: answers as `answering` does, 2 s late;
 * - `garbage`: answers each request with one of the broken answers below in turn (malformed
 *   HTTP, wrong framing, a huge body).
 *
 * `node --import tsx tests/reliability/stand-in-upstream.ts <mode> [port]` prints
 * `listening <port>` once it listens on 127.0.0.1 (port 0 or absent: ephemeral).
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';

export const standInModes = ['answering', 'hung', 'slow', 'garbage'] as const;
export type StandInMode = (typeof standInModes)[number];

/** How late `slow` answers. */
export const slowAnswerMs = 2_000;

/** The answer to `path`: JSON a few hundred bytes to a few KiB long, fixed by the path alone. */
export function answerFor(path: string): Buffer {
  const digest = createHash('sha256').update(path).digest();
  const rows = 1 + (digest[0]! % 40);
  return Buffer.from(
    JSON.stringify({
      path,
      assessed_value: digest.readUInt32BE(1) / 100,
      rows: Array.from({ length: rows }, (_, index) => ({ index, parcel: digest.toString('hex', index % 16, (index % 16) + 8) })),
    }),
  );
}

/** Broken answers, one per request in turn; each names what is wrong with it. */
const garbage: ReadonlyArray<{ what: string; write(socket: Socket): void }> = [
  { what: 'bytes that are no HTTP', write: (socket) => socket.end(Buffer.from('\x00\xff garbage \r\n\r\n\x7f')) },
  { what: 'a bare LF in the head', write: (socket) => socket.end('HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\n{}') },
  { what: 'Content-Length beside Transfer-Encoding', write: (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n') },
  { what: 'two differing Content-Lengths', write: (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}') },
  { what: 'a body shorter than its Content-Length, then close', write: (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"short":') },
  { what: 'a chunk size that is no number', write: (socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n') },
  { what: 'a second answer nobody asked for', write: (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]') },
  { what: 'a header value with a control character', write: (socket) => socket.end('HTTP/1.1 200 OK\r\nX-Broken: a\x01b\r\nContent-Length: 2\r\n\r\n{}') },
  { what: 'a 64 MiB body', write: writeHugeBody },
];

/** 64 MiB announced and streamed 1 MiB at a time as the reader takes it, until the proxy hangs up. */
function writeHugeBody(socket: Socket): void {
  const total = 64;
  const chunk = Buffer.alloc(1 << 20, 0x61);
  socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${total << 20}\r\n\r\n`);
  let written = 0;
  const more = () => {
    while (written < total && !socket.destroyed) {
      written++;
      if (!socket.write(chunk)) return void socket.once('drain', more);
    }
    socket.end();
  };
  more();
}

/** Reads request heads off a connection and calls `answer` once per head (bodies of GETs are empty). */
function onRequestHeads(socket: Socket, answer: () => void): void {
  let buffered = '';
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => {
    buffered += text;
    for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
      buffered = buffered.slice(end + 4);
      answer();
    }
  });
  socket.on('error', () => undefined);
}

export function createStandIn(mode: StandInMode): Server {
  if (mode === 'answering' || mode === 'slow') {
    const delay = mode === 'slow' ? slowAnswerMs : 0;
    return createHttpServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      req.resume();
      req.on('end', () => {
        const body = answerFor(req.url ?? '/');
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
          res.end(body);
        };
        if (delay) setTimeout(send, delay);
        else send();
      });
    });
  }
  if (mode === 'hung') return createNetServer((socket) => socket.on('error', () => undefined).resume());
  let next = 0;
  return createNetServer((socket) => onRequestHeads(socket, () => garbage[next++ % garbage.length]!.write(socket)));
}

const [mode, port] = [process.argv[2], Number(process.argv[3] ?? 0)];
if (import.meta.url === `file://${process.argv[1]}`) {
  if (!standInModes.includes(mode as StandInMode)) {
    console.error(`mode must be one of ${standInModes.join(', ')}, not ${mode}`);
    process.exit(2);
  }
  const server = createStandIn(mode as StandInMode);
  server.listen(port, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
}
