/**
 * What `cutover traffic` sends: requests of every catalogued route, built from the golden
 * fixtures (the shapes real clients send, credentials replaced by fresh logins as the
 * recorded user) over the target's real input space — its counties and their parcels — and
 * whole job workflows: a run's job is read until it is terminal, then its results (and its
 * file), and some are cancelled. The plan only chooses; traffic.ts sends on its schedule.
 */
import type { Route, RouteCatalogue } from '../../flags/route-catalogue.js';
import { goldenCounties } from './record-golden.js';
import type { Fixture } from './fixture.js';
import { valueAt } from './record-tap.js';

/** The input space the target's data offers: counties and, per county, parcel ids. */
export interface InputSpace {
  counties: readonly string[];
  properties: ReadonlyMap<string, readonly string[]>;
}

/** A job the traffic made: its id, the route that created it, the state its last read showed. */
interface Job {
  id: string;
  createdBy: string;
  state: string;
  reads: number;
  followedUp: boolean;
}

/** One request to send: the fixture it is made from and the values to put in place of recorded ones. */
export interface PlannedRequest {
  route: Route;
  fixture: Fixture;
  /** Recorded value → value to send (county, parcel, job ids). */
  replacements: Map<string, string>;
  /** The job this request reads or changes, when it names one. */
  job?: Job;
}

const terminal = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
const goldenCountyIds = new Set<string>(goldenCounties.map((county) => county.countyId));

/** Fixtures whose request still names their route (obsolete ones are not traffic), by route. */
function templatesByRoute(catalogue: RouteCatalogue, fixtures: Iterable<Fixture>): Map<string, Fixture[]> {
  const out = new Map<string, Fixture[]>();
  for (const fixture of fixtures) {
    const route = catalogue.byId(fixture.routeId);
    if (!route || catalogue.match(fixture.service, fixture.request.method, fixture.request.path.split('?')[0]!)?.id !== route.id) continue;
    out.set(route.id, [...(out.get(route.id) ?? []), fixture]);
  }
  for (const route of catalogue.routes) {
    if (out.has(route.id)) continue;
    const synthesised = fromTemplate(route);
    if (synthesised) out.set(route.id, [synthesised]);
  }
  return out;
}

/**
 * A request made from the route's path template when no fixture shows one (a route catalogued
 * before it was recorded): the golden county and a placeholder id in its parameters, an empty
 * JSON object as the body of a write. Its answer may be a refusal; it is traffic all the same.
 */
function fromTemplate(route: Route): Fixture | undefined {
  if (route.method === '*') return undefined;
  const county = goldenCounties[0].countyId;
  const path = route.path.replace(/\{([a-z_]+)\*?\}/g, (_, name: string) => (name === 'county_id' ? county : `traffic-${name}`));
  const writes = route.method !== 'GET' && route.method !== 'HEAD';
  return {
    fixture: 1,
    routeId: route.id,
    service: route.service,
    shape: 'template',
    recordedAt: new Date(0).toISOString(),
    request: { method: route.method, path, query: {}, headers: writes ? { 'content-type': 'application/json' } : {}, body: writes ? { json: {} } : null },
    response: null,
  };
}

/** Values of `property_id` a fixture's request carries (path, query, JSON body), to be replaced by the target's parcels. */
function recordedProperties(fixture: Fixture): string[] {
  const found = new Set<string>();
  for (const match of fixture.request.path.matchAll(/(?:\/properties\/|property_id=)([^/?&]+)/g)) found.add(decodeURIComponent(match[1]!));
  const json = fixture.request.body && 'json' in fixture.request.body ? fixture.request.body.json : undefined;
  const value = valueAt(json, '$.property_id');
  if (value !== undefined) found.add(value);
  return [...found];
}

export class TrafficPlan {
  private readonly templates: Map<string, Fixture[]>;
  /** Every route with a template, in the order a cycle visits them (job-creating routes first so reads have jobs). */
  readonly routes: Route[];
  private readonly jobs = new Map<string, Job[]>();
  /** Reads a workflow asked for next (status until terminal, then results), sent before the rotation. */
  private readonly followUps: PlannedRequest[] = [];
  private cursor = 0;
  private turn = 0;

  constructor(
    private readonly catalogue: RouteCatalogue,
    fixtures: Iterable<Fixture>,
    private readonly space: InputSpace,
    private readonly random: () => number = Math.random,
  ) {
    this.templates = templatesByRoute(catalogue, fixtures);
    const routes = catalogue.routes.filter((route) => this.templates.has(route.id));
    const creates = (route: Route) => (route.correlation ?? []).some((entry) => entry.in === 'response.body');
    this.routes = [...routes.filter(creates), ...routes.filter((route) => !creates(route))];
  }

  /** Catalogued routes no fixture shows a request of: traffic cannot reach them. */
  get unreachable(): Route[] {
    return this.catalogue.routes.filter((route) => !this.templates.has(route.id));
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  /** The golden fixtures in recording order, for a replay at their own pace (`--speed`). */
  recorded(): Fixture[] {
    return [...this.templates.values()].flat().filter((fixture) => fixture.shape !== 'template' && fixture.response !== null).sort((a, b) => (a.recordedAt < b.recordedAt ? -1 : a.recordedAt > b.recordedAt ? 1 : 0));
  }

  /** A recorded fixture as a request to send now: its county, parcels and jobs replaced by the target's. */
  replay(fixture: Fixture): PlannedRequest {
    return this.request(this.catalogue.byId(fixture.routeId)!, fixture);
  }

  /** The next request: a workflow's follow-up every other turn when one waits, else the next route of the rotation. */
  next(): PlannedRequest {
    this.turn++;
    if (this.followUps.length > 0 && this.turn % 2 === 0) return this.followUps.shift()!;
    const route = this.routes[this.cursor++ % this.routes.length]!;
    return this.request(route, this.pick(this.templates.get(route.id)!));
  }

  private request(route: Route, fixture: Fixture, job?: Job): PlannedRequest {
    const replacements = new Map<string, string>();
    const county = this.pick(this.space.counties);
    for (const golden of goldenCountyIds) replacements.set(golden, county);
    const parcels = this.space.properties.get(county) ?? [];
    if (parcels.length > 0) for (const recorded of recordedProperties(fixture)) replacements.set(recorded, this.pick(parcels));
    let named = job;
    for (const need of fixture.sequence?.needs ?? []) {
      named ??= this.jobFor(need.from.split('/')[0]!, route.id);
      if (named) replacements.set(need.value, named.id);
    }
    return { route, fixture, replacements, ...(named ? { job: named } : {}) };
  }

  /** A job of the creating route for a read of this kind: one still running for a status read or a cancel, a finished one for results. */
  private jobFor(createdBy: string, routeId: string): Job | undefined {
    const jobs = this.jobs.get(createdBy) ?? [];
    if (jobs.length === 0) return undefined;
    const wantsRunning = /\.(status|cancel)$/.test(routeId);
    const preferred = jobs.filter((job) => terminal.has(job.state) !== wantsRunning);
    return this.pick(preferred.length > 0 ? preferred : jobs);
  }

  /** What an answer teaches: a run's new job (its status is read next), a job's state (read again until terminal, then its results). */
  learn(planned: PlannedRequest, status: number, json: unknown): void {
    const { route } = planned;
    if (status >= 200 && status < 300) {
      for (const entry of route.correlation ?? []) {
        if (entry.in !== 'response.body') continue;
        const id = valueAt(json as never, entry.at);
        if (id === undefined) continue;
        const job: Job = { id, createdBy: route.id, state: valueAt(json as never, '$.status') ?? 'PENDING', reads: 0, followedUp: false };
        const jobs = this.jobs.get(route.id) ?? [];
        jobs.push(job);
        // The newest jobs are the ones a workflow is still following; a bounded pool keeps memory flat.
        if (jobs.length > 200) jobs.shift();
        this.jobs.set(route.id, jobs);
        this.followUp(route.id, 'status', job);
      }
    }
    const job = planned.job;
    if (!job || !route.id.endsWith('.status')) return;
    const state = valueAt(json as never, '$.status');
    if (state !== undefined) job.state = state;
    job.reads++;
    if (!terminal.has(job.state) && job.reads < 40 && status === 200) this.followUp(job.createdBy, 'status', job);
    else if (terminal.has(job.state) && !job.followedUp) {
      job.followedUp = true;
      this.followUp(job.createdBy, 'results', job);
      if (job.state === 'COMPLETED') this.followUp(job.createdBy, 'download', job);
    }
  }

  /** Queues the `step` read (status, results, download) of a job made by `createdBy`, when the catalogue has that route and a fixture of it. */
  private followUp(createdBy: string, step: string, job: Job): void {
    const route = this.catalogue.byId(createdBy.replace(/\.run$/, `.${step}`));
    const fixtures = route && this.templates.get(route.id);
    if (!route || !fixtures) return;
    const fixture = fixtures.find((candidate) => (candidate.sequence?.needs?.length ?? 0) > 0) ?? fixtures[0]!;
    this.followUps.push(this.request(route, fixture, job));
    // A backlog larger than a few seconds of traffic is dropped oldest first: the rotation keeps every route seen.
    if (this.followUps.length > 500) this.followUps.shift();
  }
}
