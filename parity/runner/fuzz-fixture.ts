/**
 * A shrunk fuzz counterexample kept as a fixture, in the golden fixture layout (format 1 of
 * parity/runner/fixture.ts: `fixture, routeId, service, shape, recordedAt, request, response`)
 * under `<dir>/<route-id>/<shape>.json`, so replay tooling can read it; the reimplementation's
 * answer and the unexplained differences ride along under `fuzz`. Written atomically.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Route } from '../../flags/route-catalogue.js';
import type { Exchange, RunRequest, SideExchanges } from './fuzz-exchange.js';

type Body = { json: unknown } | { text: string } | { base64: string; contentType: string; bytes: number } | null;

function bodyOf(body: Buffer, contentType: string | undefined): Body {
  if (body.length === 0) return null;
  const text = body.toString('utf8');
  try {
    return { json: JSON.parse(text) as unknown };
  } catch {
    const readable = !text.includes('\uFFFD') && body.length < 64_000;
    return readable ? { text } : { base64: body.toString('base64'), contentType: contentType ?? 'application/octet-stream', bytes: body.length };
  }
}

function answerOf(exchange: Exchange) {
  return { status: exchange.status, headers: { 'content-type': exchange.headers['content-type'] ?? '' }, body: bodyOf(exchange.body, exchange.headers['content-type']) };
}

function sideOf(exchanges: SideExchanges) {
  return {
    ...answerOf(exchanges.answer),
    ...(exchanges.terminal ? { terminal: answerOf(exchanges.terminal) } : {}),
    ...(exchanges.results ? { results: answerOf(exchanges.results) } : {}),
    ...(exchanges.row ? { row: answerOf(exchanges.row) } : {}),
  };
}

export interface CounterexampleRecord {
  route: Route;
  request: RunRequest;
  legacy: SideExchanges;
  reimpl: SideExchanges;
  fuzz: { seed: number; family: string; shrinkSteps: number; mismatches: readonly string[] };
}

/** Writes the counterexample; the file name is a hash of the request, so the same counterexample is one file. */
export function writeCounterexample(dir: string, record: CounterexampleRecord): string {
  const body = Buffer.from(record.request.body ?? '', 'utf8');
  const shape = createHash('sha256').update(`${record.request.method} ${record.request.path}\n`).update(body).digest('hex').slice(0, 12);
  const fixture = {
    fixture: 1,
    routeId: record.route.id,
    service: record.route.service,
    shape,
    recordedAt: new Date().toISOString(),
    request: { method: record.request.method, path: record.request.path, query: {}, headers: { 'content-type': 'application/json' }, body: bodyOf(body, 'application/json') },
    response: sideOf(record.legacy),
    fuzz: { ...record.fuzz, reimpl: sideOf(record.reimpl) },
  };
  const file = join(dir, record.route.id, `${shape}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify(fixture, null, 2)}\n`);
  renameSync(temporary, file);
  return file;
}
