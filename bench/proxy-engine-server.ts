/**
 * Minimal reverse proxies, one per engine, for the engine measurement behind
 * docs/decisions/0001-proxy-engine.md: node:http with a keep-alive http.Agent and pipe(),
 * undici Pool.request() with stream pipes, and undici Pool.dispatch() with a raw handler (what
 * proxy/serving/forward.ts does). No routes, flags or metrics: only the forwarding engine.
 * Usage: node --import tsx bench/proxy-engine-server.ts <engine> <port> <upstreamPort>
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';

const [engine, portText, upstreamText] = process.argv.slice(2);
const upstreamPort = Number(upstreamText);
const origin = `http://127.0.0.1:${upstreamPort}`;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function nodeAgent(): Handler {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  return (req, res) => {
    const upstream = httpRequest({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  };
}

function undiciRequest(): Handler {
  const pool = new Pool(origin, { connections: 64 });
  return (req, res) => {
    pool
      .request({ method: req.method as Dispatcher.HttpMethod, path: req.url!, headers: req.headers, body: req.method === 'GET' ? null : req })
      .then((answer) => {
        res.writeHead(answer.statusCode, answer.headers as Record<string, string>);
        answer.body.pipe(res);
      })
      .catch(() => {
        res.writeHead(502);
        res.end();
      });
  };
}

function undiciDispatch(): Handler {
  const pool = new Pool(origin, { connections: 64 });
  return (req, res) => {
    pool.dispatch(
      { origin, method: req.method as Dispatcher.HttpMethod, path: req.url!, headers: req.rawHeaders, body: null },
      {
        onConnect() {},
        onHeaders(status: number, raw: Buffer[], resume: () => void) {
          res.writeHead(status, raw.map((value) => value.toString('latin1')));
          res.on('drain', resume);
          return true;
        },
        onData: (chunk: Buffer) => res.write(chunk),
        onComplete: () => res.end(),
        onError: () => {
          res.writeHead(502);
          res.end();
        },
      } as Dispatcher.DispatchHandler,
    );
  };
}

const engines: Record<string, () => Handler> = { 'node-http-agent': nodeAgent, 'undici-request': undiciRequest, 'undici-dispatch': undiciDispatch };
const make = engines[engine ?? ''];
if (!make) throw new Error(`engine must be one of ${Object.keys(engines).join(', ')}`);
createServer({ keepAliveTimeout: 60_000 }, make()).listen(Number(portText), '127.0.0.1', () => process.send?.({ ready: true }));
