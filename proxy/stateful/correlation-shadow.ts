/**
 * Stateful shadowing, as the front door uses it: before a shadow copy goes out, the job ids it
 * names are swapped for their correlated shadow ids and the copy is sent to the instance that
 * holds those jobs (the shadow instance: the shadow side's `/run` wrote them there); once both
 * answers are in, new pairs are learnt from a `/run`, a racing job read is polled to terminal
 * states when its route asks, and a shadowed write's job rows are compared (state-parity.ts).
 * Everything after the answers runs off the request path, bounded.
 */
import type { Route, Service } from '../../flags/route-catalogue.js';
import type { SideResult } from '../serving/capture.js';
import { learnPairs, requestIds, rewriteForShadow, type Correlation } from './correlation.js';
import type { Correlations } from './correlation-store.js';
import type { Decision } from '../serving/decide.js';
import { pollToTerminal, raceBetween, type PollTarget } from './eventual-state.js';
import type { OutgoingRequest, ReplayableRequest } from '../serving/forward.js';
import type { Exchange } from '../observe/observation-recorder.js';
import type { ProxyMetrics } from '../observe/metrics.js';
import { limitsFor, sendShadow, type ShadowLimits } from '../shadow/shadow.js';
import type { StateParity } from './state-parity.js';
import type { Upstream, Upstreams } from '../serving/upstreams.js';

type Replayable = ReplayableRequest;

/**
 * True when a shadowed request of `route` has anything to plan or settle here: ids to swap or
 * learn (`correlation`), or racing reads to poll (`eventual.poll`); job rows are compared only
 * for correlated writes. Any other route's copy goes as it is, and its pair straight to the
 * recorder, without a plan made and settled for nothing on every shadowed request.
 */
export function isStateful(route: Route): boolean {
  return (route.correlation?.length ?? 0) > 0 || route.eventual?.poll !== undefined;
}

/** The shadow copy to send: the request (ids rewritten) and where it goes. */
export interface ShadowPlan {
  request: Replayable;
  upstream: Upstream;
  /** Pairs whose shadow ids the copy carries. */
  used: Correlation[];
  /** The request as the serving side got it (polls read the serving side again with it). */
  original: Replayable;
}

export interface StatefulShadowingParts {
  correlations: Correlations;
  upstreams: Upstreams;
  /** Compares job rows after shadowed writes; absent when the proxy has no database to read them from. */
  stateParity?: StateParity | undefined;
  limits: ShadowLimits;
  /** Where poll reads aborted at their timeout are counted. */
  metrics: ProxyMetrics;
  /** Racing reads polled at once; more are recorded as they are (ignored: eventual-state). */
  maxPolls?: number;
}

export class StatefulShadowing {
  private polling = 0;
  /** Racing reads not polled because `maxPolls` were already polling. */
  pollsSkipped = 0;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly parts: StatefulShadowingParts) {}

  /** Where and what the shadow copy of `request` is; synchronous unless a correlation must be looked up in the persistent store. */
  plan(service: Service, route: Route, decision: Decision, request: Replayable): ShadowPlan | Promise<ShadowPlan> {
    const { correlations } = this.parts;
    const ids = route.correlation ? requestIds(route, request) : [];
    if (ids.length === 0 || !correlations.persistent || ids.every(({ value }) => correlations.peek(decision.serving, value))) {
      return this.planWith(service, route, decision, request, (id) => correlations.peek(decision.serving, id));
    }
    return Promise.all(ids.map(async ({ value }) => [value, await correlations.find(decision.serving, value)] as const)).then((found) => {
      const known = new Map(found.filter((entry): entry is readonly [string, Correlation] => entry[1] !== undefined));
      return this.planWith(service, route, decision, request, (id) => known.get(id));
    });
  }

  private planWith(service: Service, route: Route, decision: Decision, request: Replayable, lookup: (id: string) => Correlation | undefined): ShadowPlan {
    const { request: rewritten, used } = rewriteForShadow(route, request, lookup);
    // A correlated id names a job the shadow side wrote to its shadow instance: read it there.
    return { request: rewritten, original: request, used, upstream: this.parts.upstreams.for(service, route, decision.shadow!, 'shadow', used.length > 0) };
  }

  /**
   * Takes a finished exchange: learns pairs, polls a racing job read to terminal states when
   * the route asks, then hands the exchange (and, after a write, the job rows' exchange) to `submit`.
   */
  settle(exchange: Exchange, plan: ShadowPlan, decision: Decision, service: Service, submit: (exchange: Exchange) => void): void {
    const { route } = exchange;
    const learnt = learnPairs(route, exchange.serving, exchange.shadow, exchange.at.getTime());
    void this.parts.correlations.learn(learnt);
    const correlations = [...plan.used, ...learnt];
    const observed: Exchange = correlations.length > 0 ? { ...exchange, correlations } : exchange;
    const poll = route.eventual?.poll;
    if (poll && exchange.method === 'GET' && raceBetween(route, exchange.serving, exchange.shadow)) {
      if (this.polling >= (this.parts.maxPolls ?? 32)) {
        this.pollsSkipped++;
        submit(observed);
      } else {
        this.polling++;
        const readAgain = (target: PollTarget) => this.readAgain(target, service, route, decision, plan);
        this.track(
          pollToTerminal(route, readAgain, observed, poll)
            .then((polled) => submit({ ...observed, serving: polled.serving, shadow: polled.shadow }))
            .finally(() => this.polling--),
        );
      }
    } else {
      submit(observed);
    }
    const stateParity = this.parts.stateParity;
    if (stateParity && route.writes && correlations.length > 0) {
      this.track(
        stateParity.rowsAfterWrite(route, correlations, decision.shadow!).then((rows) => {
          for (const row of rows) {
            submit({
              ...exchange,
              at: new Date(),
              route: { ...route, id: row.routeId, compare: { ...route.compare, headers: [] } },
              method: 'STATE',
              path: `${row.table}/${row.servingId}`,
              serving: row.serving,
              shadow: row.shadow,
              correlations: [row.correlation],
            });
          }
        }),
      );
    }
  }

  /**
   * The same job read again on one side, on the polls' own pool to that side's origin (never a
   * serving or shadow connection): the serving request to the serving side, the shadow copy where it went.
   */
  private readAgain(target: PollTarget, service: Service, route: Route, decision: Decision, plan: ShadowPlan): Promise<SideResult> {
    const { upstreams, metrics } = this.parts;
    const [upstream, side, request] =
      target === 'serving'
        ? [upstreams.for(service, route, decision.serving, 'serving'), decision.serving, plan.original]
        : [plan.upstream, decision.shadow!, plan.request];
    return new Promise<SideResult>((resolve) =>
      sendShadow(upstreams.forPoll(upstream), side, { ...request, body: null }, limitsFor(route, this.parts.limits), resolve, (stage) => metrics.shadowTimedOut(service, stage)),
    );
  }

  private track(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined).finally(() => this.pending.delete(settled));
    this.pending.add(settled);
  }

  /** Waits for polls and state checks under way (tests, and shutdown before the recorder's last flush). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
