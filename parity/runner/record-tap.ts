/**
 * The recording tap of `cutover record`: the proxy hands it exchanges it wanted (sampled per
 * request), and it turns them into golden Fixtures off the request path — deduplicated by
 * request shape, bounded per route and in total, redacted before anything is written, and
 * linked into sequences: a job created by one fixture and read by later ones (route
 * `correlation:` entries) is recorded as `sequence.needs` so replay can substitute new ids.
 */
import type { Route } from '../../flags/route-catalogue.js';
import type { RecordingTap, TappedExchange } from '../../proxy/pipeline/serving-call.js';
import type { JsonValue } from '../compare/json-text.js';
import { JsonNumber } from '../compare/json-text.js';
import { fixtureBody, fixtureKey, queryOf, requestShape, routeGlobMatcher, tryParseJson, writeFixture, type Fixture, type FixtureBody, type FixtureSequence } from './fixture.js';
import { callerOf } from './caller.js';
import type { Redactor } from '../compare/redact.js';

/** Request headers a fixture keeps (credentials among them are redacted); the rest is transport noise. */
export const keptRequestHeaders = ['content-type', 'accept', 'authorization', 'cookie'] as const;
/** Response headers a fixture keeps. */
export const keptResponseHeaders = ['content-type', 'content-disposition', 'location', 'set-cookie', 'www-authenticate'] as const;

export interface RecordTapOptions {
  dir: string;
  redactor: Redactor;
  /** Share of wanted requests, 0..1. */
  sample: number;
  /** Route id glob(s), e.g. `sync.gis-export.*`; all routes when empty. */
  routes?: readonly string[];
  maxPerRoute: number;
  maxTotal: number;
  /** Largest response body kept; bigger answers are not recorded (their fixture would be cut). */
  maxBodyBytes: number;
  random?: () => number;
  /** Called after each fixture is written. */
  onFixture?: (fixture: Fixture, file: string) => void;
}

export interface RecordTapCounts {
  seen: number;
  written: number;
  duplicates: number;
  /** Past maxPerRoute / maxTotal. */
  bounded: number;
  /** Failed, cut, or reading a job recorded before the tap started (it could not be replayed). */
  skipped: number;
}

/** Values of a route template's `{name}` parameters in a concrete path. */
export function pathParameters(template: string, path: string): Record<string, string> {
  const bare = path.split('?')[0]!;
  const names = template.split('/');
  const values = bare.split('/');
  const out: Record<string, string> = {};
  names.forEach((segment, i) => {
    const name = /^\{([a-z_][a-z0-9_]*)\*?\}$/.exec(segment)?.[1];
    if (name && values[i] !== undefined) out[name] = segment.endsWith('*}') ? values.slice(i).join('/') : decodeURIComponent(values[i]!);
  });
  return out;
}

/** The value at a simple JSON path (`$.a.b`) of a parsed body, when it is a string or number. */
export function valueAt(body: JsonValue | undefined, path: string): string | undefined {
  let node: JsonValue | undefined = body;
  for (const key of path.replace(/^\$\.?/, '').split('.').filter(Boolean)) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || node instanceof JsonNumber) return undefined;
    node = node[key];
  }
  if (typeof node === 'string') return node;
  if (node instanceof JsonNumber) return node.text;
  return undefined;
}

function pick(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) if (headers[name] !== undefined) out[name] = headers[name]!;
  return out;
}

/** A body as a fixture keeps it, redacted: JSON and text bodies through the redactor, binary ones as they are. */
export function redactBody(redactor: Redactor, body: Buffer, contentType: string | undefined): FixtureBody {
  const kept = fixtureBody(body, contentType);
  if (kept === null) return null;
  if ('json' in kept) return { json: redactor.json(kept.json) };
  if ('text' in kept) return { text: redactor.text(kept.text, contentType) };
  return kept;
}

export class RecordTap implements RecordingTap {
  readonly captureLimit: number;
  readonly counts: RecordTapCounts = { seen: 0, written: 0, duplicates: 0, bounded: 0, skipped: 0 };
  private readonly queue: TappedExchange[] = [];
  private readonly kept = new Set<string>();
  private readonly perRoute = new Map<string, number>();
  /** Correlated id value → the kept fixture whose answer produced it (or its duplicate's). */
  private readonly producedBy = new Map<string, { id: string; from: string }>();
  private readonly matches: (routeId: string) => boolean;
  private readonly random: () => number;
  private draining = false;
  private waiters: Array<() => void> = [];

  constructor(private readonly options: RecordTapOptions) {
    this.captureLimit = options.maxBodyBytes + 1;
    this.matches = routeGlobMatcher(options.routes ?? []);
    this.random = options.random ?? Math.random;
  }

  get full(): boolean {
    return this.counts.written >= this.options.maxTotal;
  }

  wants(route: Route): boolean {
    return !this.full && this.matches(route.id) && (this.options.sample >= 1 || this.random() < this.options.sample);
  }

  submit(exchange: TappedExchange): void {
    this.queue.push(exchange);
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
  }

  /** Resolves once every exchange submitted so far is processed (written or skipped). */
  settled(): Promise<void> {
    if (!this.draining && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private drain(): void {
    try {
      while (this.queue.length > 0) this.record(this.queue.shift()!);
    } finally {
      this.draining = false;
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private record(exchange: TappedExchange): void {
    this.counts.seen += 1;
    const { route, answer } = exchange;
    if (answer.failure || answer.status === undefined || answer.truncated) {
      this.counts.skipped += 1;
      return;
    }
    const shape = requestShape(exchange.method, route.id, exchange.path, exchange.body, exchange.headers);
    const key = fixtureKey({ routeId: route.id, shape });
    const answerJson = tryParseJson(answer.body);
    const requestJson = tryParseJson(exchange.body);
    const sequence: FixtureSequence = {};
    for (const entry of route.correlation ?? []) {
      if (entry.in === 'response.body') {
        const value = valueAt(answerJson, entry.at);
        if (value !== undefined) (sequence.produces ??= []).push({ id: entry.id, value });
        continue;
      }
      const value = entry.in === 'path' ? pathParameters(route.path, exchange.path)[entry.at] : entry.in === 'request.body' ? valueAt(requestJson, entry.at) : undefined;
      if (value === undefined) continue;
      const producer = this.producedBy.get(value);
      if (producer) (sequence.needs ??= []).push({ id: entry.id, value, from: producer.from });
      else if (answer.status < 400) {
        // A job this recording never saw created: a replay could not recreate it.
        this.counts.skipped += 1;
        return;
      }
    }
    const duplicate = this.kept.has(key);
    // A duplicate's new ids still point at the kept fixture of its shape: its replay recreates them.
    for (const produced of sequence.produces ?? []) this.producedBy.set(produced.value, { id: produced.id, from: key });
    if (duplicate) {
      this.counts.duplicates += 1;
      return;
    }
    const routeCount = this.perRoute.get(route.id) ?? 0;
    if (routeCount >= this.options.maxPerRoute || this.full) {
      this.counts.bounded += 1;
      return;
    }
    this.kept.add(key);
    this.perRoute.set(route.id, routeCount + 1);
    const fixture = this.toFixture(exchange, shape, sequence, requestJson);
    const file = writeFixture(this.options.dir, fixture);
    this.counts.written += 1;
    this.options.onFixture?.(fixture, file);
  }

  private toFixture(exchange: TappedExchange, shape: string, sequence: FixtureSequence, requestJson: JsonValue | undefined): Fixture {
    const { redactor } = this.options;
    const { route, answer } = exchange;
    const loginName = valueAt(requestJson, '$.username') ?? new URLSearchParams(exchange.body.toString('utf8')).get('username') ?? undefined;
    const refreshToken = valueAt(requestJson, '$.refresh_token');
    const user = callerOf(exchange.headers) ?? (refreshToken ? callerOf({ authorization: `Bearer ${refreshToken}` }) : undefined) ?? (route.id.includes('login') ? loginName : undefined);
    const path = redactor.path(exchange.path);
    return {
      fixture: 1,
      routeId: route.id,
      service: exchange.service,
      shape,
      recordedAt: exchange.at.toISOString(),
      ...(user ? { user } : {}),
      ...(sequence.produces || sequence.needs ? { sequence } : {}),
      request: {
        method: exchange.method,
        path,
        query: queryOf(path),
        headers: redactor.headers(pick(exchange.headers, keptRequestHeaders)),
        body: redactBody(redactor, exchange.body, exchange.headers['content-type']),
      },
      response: {
        status: answer.status!,
        headers: redactor.headers(pick(answer.headers, keptResponseHeaders)),
        body: redactBody(redactor, answer.body, answer.headers['content-type']),
      },
    };
  }
}
