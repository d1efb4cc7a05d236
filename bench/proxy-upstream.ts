/**
 * The benchmark's upstream: a node:http server answering a small JSON document on every path,
 * keep-alive, in its own process so it does not share an event loop with what is measured.
 * `GET /__bench/requests` answers how many requests it has answered so far (itself not
 * counted), so the bench can say how many shadow copies reached the shadow side.
 * Usage: node --import tsx bench/proxy-upstream.ts <port>
 */
import { createServer } from 'node:http';

const body = Buffer.from(JSON.stringify({ status: 'healthy', version: '0.1.0', county_id: 'benton_wa', counts: { parcels: 20000, sales: 3120 }, ok: true }));
const port = Number(process.argv[2] ?? 0);
let answered = 0;

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  // Read (and drop) any request body before answering, as a real service would.
  req.resume();
  if (req.url === '/__bench/requests') {
    res.end(JSON.stringify({ requests: answered }));
    return;
  }
  answered++;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.listen(port, '127.0.0.1', () => process.send?.({ ready: true }));
