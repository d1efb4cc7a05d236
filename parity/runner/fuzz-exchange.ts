/**
 * One request sent to one side, and what came back, as the engine's Exchange. For a job route
 * (`*.run` with a `*.status` sibling in the catalogue) the exchange is followed to the job's
 * terminal state — status polled with a deadline — and its results read, so two sides are
 * compared on what the job did, not only on the immediate PENDING answer. A request with a
 * `setup` (a PATCH of a job) first creates, on each side, the record it acts on.
 */
import type { Route, RouteCatalogue } from '../../flags/route-catalogue.js';
import { CutoverError } from '../../src/errors.js';
import type { Exchange } from '../compare/engine.js';

export type { Exchange } from '../compare/engine.js';

/** A request as the fuzzer and calibrator build it; `body` is raw text so malformed JSON can be sent. */
export interface RunRequest {
  method: string;
  /** May hold `setup.placeholder`, replaced on each side by the id its setup created. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** A request each side sends first, whose answer names the record the request acts on (a job to PATCH). */
  setup?: { request: RunRequest; idAt: string; placeholder: string };
}

/** The exchanges of one request on one side: the immediate answer, and for a job its terminal status and results. */
export interface SideExchanges {
  answer: Exchange;
  terminal?: Exchange;
  results?: Exchange;
  /** The job's row in its table, normalised (fuzz-rows.ts), when rows are read. */
  row?: Exchange;
  /** The job id this side created, when it created one. */
  jobId?: string;
}

const terminalStates = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * Sends a request; a network failure becomes an Exchange with `failure` set (an `errored` side).
 * The exchange's window is its own (sent → read); `jobAskedAt` opens it earlier for a job read.
 */
export async function send(baseUrl: string, request: RunRequest, timeoutMs = 30_000, jobAskedAt?: number): Promise<Exchange> {
  const askedAt = Date.now();
  try {
    const response = await fetch(baseUrl + request.path, {
      method: request.method,
      headers: request.body === undefined ? request.headers : { 'content-type': 'application/json', ...request.headers },
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = Buffer.from(await response.arrayBuffer());
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    return { status: response.status, headers, body, window: { askedAt, answeredAt: Date.now(), ...(jobAskedAt === undefined ? {} : { jobAskedAt }) } };
  } catch (error) {
    const cause = (error as Error & { cause?: { code?: string } }).cause;
    return { status: 0, headers: {}, body: Buffer.alloc(0), failure: { code: cause?.code ?? (error as Error).name, message: (error as Error).message } };
  }
}

/** The status route of a job-creating route (`x.run` → `x.status`), when the catalogue has one. */
export function statusRouteOf(route: Route, catalogue: RouteCatalogue): Route | undefined {
  if (!route.id.endsWith('.run')) return undefined;
  return catalogue.byId(route.id.replace(/\.run$/, '.status'));
}

function jsonOf(exchange: Exchange): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(exchange.body.toString('utf8')) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The job id of a run answer: the first correlation the route names in its response body. */
function createdJobId(route: Route, answer: Exchange): string | undefined {
  if (answer.status < 200 || answer.status >= 300) return undefined;
  const body = jsonOf(answer);
  const field = route.correlation?.find((entry) => entry.in === 'response.body')?.at.replace(/^\$\./, '');
  const id = field && body ? body[field] : undefined;
  return typeof id === 'string' ? id : undefined;
}

/** Sends the request and, for a job route, follows the job to a terminal state within `deadlineMs`. */
export async function exchangeOnSide(
  baseUrl: string,
  request: RunRequest,
  route: Route,
  catalogue: RouteCatalogue,
  deadlineMs = 60_000,
): Promise<SideExchanges> {
  // The job's window opens before the setup that creates it.
  const sentAt = Date.now();
  if (request.setup) {
    // Each side acts on a record of its own; a side whose setup fails is compared on that answer.
    const made = await send(baseUrl, request.setup.request, undefined, sentAt);
    const id = made.status >= 200 && made.status < 300 ? jsonOf(made)?.[request.setup.idAt.replace(/^\$\./, '')] : undefined;
    if (typeof id !== 'string') return { answer: made };
    request = { ...request, path: request.path.split(request.setup.placeholder).join(encodeURIComponent(id)), setup: undefined };
  }
  const answer = await send(baseUrl, request, undefined, sentAt);
  const statusRoute = statusRouteOf(route, catalogue);
  const jobId = statusRoute ? createdJobId(route, answer) : undefined;
  if (!statusRoute || !jobId) return { answer };
  const parameter = /\{([a-z_]+)\}/.exec(statusRoute.path)![0];
  const statusPath = statusRoute.path.replace(parameter, encodeURIComponent(jobId));
  const deadline = Date.now() + deadlineMs;
  let terminal: Exchange;
  for (let wait = 20; ; wait = Math.min(wait * 2, 250)) {
    terminal = await send(baseUrl, { method: 'GET', path: statusPath }, undefined, sentAt);
    const state = jsonOf(terminal)?.status;
    if (terminal.status !== 200 || (typeof state === 'string' && terminalStates.has(state))) break;
    if (Date.now() > deadline) {
      throw new CutoverError('CUTOVER_ERR_FUZZ_JOB_TIMEOUT', `${route.id} job ${jobId} on ${baseUrl} was still '${String(state)}' after ${deadlineMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  const results = await send(baseUrl, { method: 'GET', path: statusPath.replace(/\/status\//, '/results/') }, undefined, sentAt);
  return { answer, terminal, results, jobId };
}
