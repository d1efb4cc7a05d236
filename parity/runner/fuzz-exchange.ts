/**
 * One request sent to one side, and what came back, as the engine's Exchange. For a job route
 * (`*.run` with a `*.status` sibling in the catalogue) the exchange is followed to the job's
 * terminal state — status polled with a deadline — and its results read, so two sides are
 * compared on what the job did, not only on the immediate PENDING answer. A request with a
 * `setup` (a PATCH of a job, a status read, a cancel) first creates, on each side, the record
 * it acts on, and says which id each side's record got, so the two can be correlated. A side is
 * a base URL per service (a gateway route goes to that side's gateway) with its own logins: a
 * request `as` a user carries the Bearer token that side's gateway issued to that user.
 */
import type { Route, RouteCatalogue } from '../../flags/route-catalogue.js';
import { CutoverError } from '../../src/errors.js';
import type { Exchange } from '../compare/engine.js';
import { ReplayLogins } from './replay-login.js';

export type { Exchange } from '../compare/engine.js';

/** A request as the fuzzer and calibrator build it; `body` is raw text so malformed JSON can be sent. */
export interface RunRequest {
  method: string;
  /** May hold `setup.placeholder`, replaced on each side by the id its setup created (so may a string of `body`). */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The service whose URL of the side the request goes to (default: the side's first). */
  service?: string;
  /** Sent with the Bearer token this side's gateway issues to this user (`forged`: a token no gateway signed). */
  as?: string;
  /**
   * A request each side sends first, whose answer names the record the request acts on (a job
   * to PATCH, read or cancel). With `route`, the setup is that route's exchange: with `follow`,
   * its job followed to a terminal state before the request goes out.
   */
  setup?: { request: RunRequest; idAt: string; placeholder: string; route?: Route; follow?: boolean };
}

/** A token of the right shape that no gateway signed: a gateway must refuse it as it refuses none. */
export const forgedToken = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwidHlwZSI6ImFjY2VzcyJ9.Zm9yZ2Vk';

/** One side of a differential run: a base URL per service, and the logins its gateway gave. */
export class SideTarget {
  private readonly logins?: ReplayLogins;

  constructor(
    readonly urls: Readonly<Record<string, string>>,
    passwords: Readonly<Record<string, string>> = {},
  ) {
    if (urls.gateway) this.logins = new ReplayLogins(urls.gateway, passwords, 30_000);
  }

  /** A side that is one URL for every service (a sync service alone, as fuzz started with). */
  static of(side: string | SideTarget): SideTarget {
    return typeof side === 'string' ? new SideTarget({ sync: side }) : side;
  }

  urlOf(service: string | undefined): string {
    const url = (service && this.urls[service]) ?? Object.values(this.urls)[0];
    if (!url) throw new CutoverError('CUTOVER_ERR_FUZZ_ROUTE_UNSUPPORTED', `no ${service ?? 'service'} was started for this side`);
    return url;
  }

  /** The headers a request `as` a user carries on this side. */
  async authorization(as: string | undefined): Promise<Record<string, string>> {
    if (as === undefined) return {};
    if (as === 'forged') return { authorization: `Bearer ${forgedToken}` };
    if (!this.logins) throw new CutoverError('CUTOVER_ERR_FUZZ_ROUTE_UNSUPPORTED', `a request as '${as}' needs a gateway on this side`);
    return { authorization: `Bearer ${(await this.logins.tokens(as)).access}` };
  }
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
  /** The ids this side's setup and request created (setup first): paired, side by side, with the other side's. */
  createdIds: string[];
  /** When set: the exchange that created the record the request acted on, and how that job ended before the request. */
  setup?: SideExchanges;
}

const terminalStates = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * Sends a request; a network failure becomes an Exchange with `failure` set (an `errored` side).
 * The exchange's window is its own (sent → read); `jobAskedAt` opens it earlier for a job read.
 */
export async function send(side: string | SideTarget, request: RunRequest, timeoutMs = 30_000, jobAskedAt?: number): Promise<Exchange> {
  const target = SideTarget.of(side);
  const askedAt = Date.now();
  try {
    const sent: Record<string, string> = { ...(request.body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers, ...(await target.authorization(request.as)) };
    const response = await fetch(target.urlOf(request.service) + request.path, {
      method: request.method,
      headers: sent,
      // A redirect is an answer to compare (Starlette's slash redirects), not one to follow.
      redirect: 'manual',
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

/** The id a creating answer names: the first correlation the route names in its response body. */
export function createdId(route: Route, answer: Exchange): string | undefined {
  if (answer.status < 200 || answer.status >= 300) return undefined;
  const body = jsonOf(answer);
  const field = route.correlation?.find((entry) => entry.in === 'response.body')?.at.replace(/^\$\./, '');
  const id = field && body ? body[field] : undefined;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Sends the request (its setup first) and follows the job it made or acted on to a terminal
 * state within `deadlineMs`: a run's job, or the job a cancel acted on (what the job became is
 * part of what the cancel did). `follow: false` sends and returns at once (a setup racing a cancel).
 */
export async function exchangeOnSide(
  side: string | SideTarget,
  request: RunRequest,
  route: Route,
  catalogue: RouteCatalogue,
  deadlineMs = 60_000,
  follow = true,
): Promise<SideExchanges> {
  const target = SideTarget.of(side);
  // The job's window opens before the setup that creates it.
  const sentAt = Date.now();
  const createdIds: string[] = [];
  let setup: SideExchanges | undefined;
  let actedOn: { id: string; statusRoute: Route; settle: boolean; by: RunRequest } | undefined;
  if (request.setup) {
    // Each side acts on a record of its own; a side whose setup fails is compared on that answer.
    const { route: creator } = request.setup;
    setup = creator
      ? await exchangeOnSide(target, request.setup.request, creator, catalogue, deadlineMs, request.setup.follow ?? false)
      : { answer: await send(target, request.setup.request, undefined, sentAt), createdIds: [] };
    const id = setup.answer.status >= 200 && setup.answer.status < 300 ? jsonOf(setup.answer)?.[request.setup.idAt.replace(/^\$\./, '')] : undefined;
    if (typeof id !== 'string') return { answer: setup.answer, createdIds: setup.createdIds };
    createdIds.push(...setup.createdIds.filter((known) => known !== id), id);
    const creatorStatus = creator ? statusRouteOf(creator, catalogue) : undefined;
    if (creatorStatus) actedOn = { id, statusRoute: creatorStatus, settle: request.setup.follow === false, by: request.setup.request };
    // The placeholder stands in the path (percent-encoded) or inside a JSON string of the body (escaped as JSON).
    const inBody = request.body?.split(request.setup.placeholder).join(JSON.stringify(id).slice(1, -1));
    request = { ...request, path: request.path.split(request.setup.placeholder).join(encodeURIComponent(id)), ...(inBody === undefined ? {} : { body: inBody }), setup: undefined };
  }
  // A request that makes or acts on a job opens that job's window; a list shows jobs made before, elsewhere.
  const answer = await send(target, request, undefined, route.correlation?.length ? sentAt : undefined);
  const made = createdId(route, answer);
  if (made !== undefined && !createdIds.includes(made)) createdIds.push(made);
  const statusRoute = statusRouteOf(route, catalogue);
  const base = { answer, createdIds, ...(setup ? { setup } : {}) };
  if (!follow) return base;
  // A job the request made, or one it wrote to (a cancel): how it ended is part of what the request did.
  // The job is read as whoever made it: the request itself may carry no login, or a forged one.
  const job = statusRoute && made ? { id: made, statusRoute, by: request } : actedOn && route.writes ? actedOn : undefined;
  if (!job) {
    // A job left running for a read to race is still waited for, so it races nothing after.
    if (actedOn?.settle) await followJob(target, actedOn.by, actedOn.statusRoute, actedOn.id, sentAt, deadlineMs);
    return base;
  }
  const ends = await followJob(target, job.by, job.statusRoute, job.id, sentAt, deadlineMs);
  return { ...base, ...ends, ...(statusRoute && made ? { jobId: made } : {}) };
}

/** Polls a job's status until it is terminal (or its status read fails), then reads its results. */
async function followJob(
  target: SideTarget,
  request: RunRequest,
  statusRoute: Route,
  jobId: string,
  sentAt: number,
  deadlineMs: number,
): Promise<{ terminal: Exchange; results: Exchange }> {
  const parameter = /\{([a-z_]+)\}/.exec(statusRoute.path)![0];
  const statusPath = statusRoute.path.replace(parameter, encodeURIComponent(jobId));
  const read = (path: string): RunRequest => ({ method: 'GET', path, ...(request.service ? { service: request.service } : {}), ...(request.as ? { as: request.as } : {}) });
  const deadline = Date.now() + deadlineMs;
  let terminal: Exchange;
  for (let wait = 20; ; wait = Math.min(wait * 2, 250)) {
    terminal = await send(target, read(statusPath), undefined, sentAt);
    const state = jsonOf(terminal)?.status;
    if (terminal.status !== 200 || (typeof state === 'string' && terminalStates.has(state))) break;
    if (Date.now() > deadline) {
      throw new CutoverError('CUTOVER_ERR_FUZZ_JOB_TIMEOUT', `${statusRoute.id} job ${jobId} on ${target.urlOf(request.service)} was still '${String(state)}' after ${deadlineMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  const results = await send(target, read(statusPath.replace(/\/status\//, '/results/')), undefined, sentAt);
  return { terminal, results };
}
