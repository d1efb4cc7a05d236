/**
 * Which forwarding engine the proxy is built on (docs/decisions/0001-proxy-engine.md): the
 * same small JSON upstream through minimal proxies on node:http + keep-alive Agent, undici
 * Pool.request and undici Pool.dispatch, and through the full cutover proxy (routes, flags,
 * metrics), alternated over rounds so a busy machine hurts them alike. Reports req/s, p99 and
 * CPU microseconds per request (the least noisy of the three on a shared machine).
 * Run: node --import tsx bench/proxy-engines.ts [rounds]
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, hasWrk, measure, startChild, waitForHttp, type Measured } from './proxy.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function runProxyEngineBench(rounds = 3): Promise<string> {
  const children: ChildProcess[] = [];
  try {
    const upstreamPort = await freePort();
    children.push(await startChild('proxy-upstream.ts', [String(upstreamPort)]));
    const targets: Array<{ name: string; url: string; pid: number | undefined }> = [];
    for (const engine of ['node-http-agent', 'undici-request', 'undici-dispatch']) {
      const port = await freePort();
      const child = await startChild('proxy-engine-server.ts', [engine, String(port), String(upstreamPort)]);
      children.push(child);
      targets.push({ name: engine, url: `http://127.0.0.1:${port}/pass`, pid: child.pid });
    }
    const proxyPort = await freePort();
    const proxy = await startChild('proxy-server.ts', [], { BENCH_PROXY: JSON.stringify({ port: proxyPort, legacy: upstreamPort, reimpl: upstreamPort, workers: 1 }) });
    children.push(proxy);
    targets.push({ name: 'cutover proxy (undici-dispatch + routes, flags, metrics)', url: `http://127.0.0.1:${proxyPort}/pass`, pid: proxy.pid });
    await Promise.all(targets.map((target) => waitForHttp(target.url)));
    const useWrk = await hasWrk();
    const results = new Map<string, Measured[]>(targets.map((target) => [target.name, []]));
    const options = { concurrency: 50, durationMs: 4000, warmupMs: 1000, proxyWorkers: 1, nginxWorkers: 1 };
    for (let round = 0; round < rounds; round++) {
      for (const target of targets) results.get(target.name)!.push(await measure(target.url, options, useWrk, target.pid));
    }
    const lines = [`== proxy engines (${rounds} rounds, medians; wrk ${useWrk}, 50 connections)`];
    for (const [name, runs] of results) {
      lines.push(
        `${name.padEnd(58)} ${median(runs.map((run) => run.rps)).toFixed(0).padStart(6)} req/s  p99 ${median(runs.map((run) => run.p99Ms)).toFixed(2).padStart(6)} ms  ` +
          `${median(runs.map((run) => run.cpuUs)).toFixed(1).padStart(6)} CPU us/req  errors ${runs.map((run) => run.errors + run.non2xx).join("/")}`,
      );
    }
    return lines.join('\n');
  } finally {
    for (const child of children.reverse()) child.kill('SIGTERM');
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await runProxyEngineBench(Number(process.argv[2] ?? 3)));
}
