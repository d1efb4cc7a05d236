/**
 * The web console on the admin server (issue 12): its page at `/`, its assets, and the admin API
 * routes its views read that the flags API lacked — the routes overview and a route's page
 * (console/route-views.ts), the rollouts with pause, resume and abort (rollout/rollout-service.ts,
 * as `cutover rollout` runs them), and a server-sent event stream of flag changes fed by the
 * proxy's LISTEN/NOTIFY flag source (and the rollouts, read every second while a console is
 * open, since a rollout paused elsewhere raises no NOTIFY). Flag changes, the kill switch and the history are the
 * admin API's own routes (flags/admin-server.ts); the console's script calls those.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { AdminConsole } from '../flags/admin-server.js';
import type { FlagSnapshot } from '../flags/flag.js';
import type { LiveFlagSource } from '../flags/live-flag-source.js';
import type { PromotionGuard } from '../flags/promotion-guard.js';
import { abortRollout, pauseRollout, resumeRollout, startRollout } from '../rollout/rollout-service.js';
import type { CutoverConfig } from '../src/config/schema.js';
import { CutoverError } from '../src/errors.js';
import { consoleAssets, consoleContentSecurityPolicy } from './assets.js';
import { routeDetail, routesOverview, type ConsoleSources } from './route-views.js';

export interface ConsoleOptions extends ConsoleSources {
  /** The flags the proxy decides with; its changes are pushed to every open console. */
  flagSource: { current(): FlagSnapshot; onChange?: LiveFlagSource['onChange'] };
  /** The promotion guard the admin API uses (rollout-service takes it with the stores). */
  guard: PromotionGuard;
  /** How often an event stream sends a comment so proxies in between keep it open. */
  heartbeatMs?: number;
  /** How often the rollouts are read while a console is open: their changes (a pause from the CLI) raise no NOTIFY. */
  rolloutPollMs?: number;
  /** What a rollout started here takes when the form leaves a field empty: the config's, as `cutover rollout start`. */
  rolloutDefaults: Pick<CutoverConfig['rollout'], 'steps' | 'stepDurationMs' | 'checks'>;
}

const rolloutAction = z.object({ reason: z.string().optional() }).strict();
const rolloutStart = z
  .object({
    steps: z.array(z.number().int()).min(1).optional(),
    stepDurationMs: z.number().int().positive().optional(),
    checks: z.number().int().positive().optional(),
    reason: z.string(),
    force: z.boolean().optional(),
  })
  .strict();

/** What a flag event carries: enough for a page to tell what changed without asking. */
export function flagEvent(snapshot: FlagSnapshot): { killSwitch: boolean; state: string; loadedAt: string; flags: Array<{ routeId: string; mode: string; percent: number }> } {
  return {
    killSwitch: snapshot.killSwitch,
    state: snapshot.state,
    loadedAt: snapshot.loadedAt.toISOString(),
    flags: [...snapshot.flags.values()].sort((a, b) => a.routeId.localeCompare(b.routeId)).map(({ routeId, mode, percent }) => ({ routeId, mode, percent })),
  };
}

function parseAction(body: unknown): { reason?: string } {
  const parsed = rolloutAction.safeParse(body ?? {});
  if (!parsed.success) throw new CutoverError('CUTOVER_ERR_ROLLOUT_INVALID', `invalid rollout action: ${parsed.error.issues.map((issue) => issue.message).join('; ')} (only "reason"; the actor is the signed-in token's name)`);
  return parsed.data;
}

export function createConsole(options: ConsoleOptions): AdminConsole {
  const assets = consoleAssets();
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const streams = new Set<ServerResponse>();
  // One reader of the rollouts for all open streams, running only while one is open.
  let rolloutsSeen = '';
  let rolloutTimer: NodeJS.Timeout | undefined;
  const readRollouts = async () => {
    try {
      const list = await options.rollouts.list();
      const seen = JSON.stringify(list.map(({ id, routeId, state, stepIndex, breaches, updatedAt }) => ({ id, routeId, state, stepIndex, breaches, updatedAt })));
      if (seen === rolloutsSeen) return;
      rolloutsSeen = seen;
      for (const stream of streams) stream.write(`event: rollouts\ndata: ${seen}\n\n`);
    } catch {
      // The next read tries again; the flags stream does not depend on it.
    }
  };
  const watchRollouts = () => {
    if (streams.size === 0) {
      clearInterval(rolloutTimer);
      rolloutTimer = undefined;
    } else if (!rolloutTimer) {
      rolloutTimer = setInterval(() => void readRollouts(), options.rolloutPollMs ?? 1000);
      rolloutTimer.unref();
    }
  };
  const parts = () => ({ rollouts: options.rollouts, flags: options.flagStore, catalogue: options.catalogue, guard: options.guard });
  const clock = () => options.clock?.() ?? new Date();

  const page = (reply: FastifyReply) => reply.header('content-type', 'text/html; charset=utf-8').header('content-security-policy', consoleContentSecurityPolicy).send(assets.page());

  return {
    openUrls: ['/', '/console/assets/app.js', '/console/assets/console.css'],
    register(app: FastifyInstance, { actorOf }) {
      app.get('/', async (_request, reply) => page(reply));
      app.get('/console/assets/app.js', async (_request, reply) => reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await assets.script()));
      app.get('/console/assets/console.css', async (_request, reply) => reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'no-cache').send(assets.stylesheet()));

      app.get('/routes', async () => routesOverview(options));
      app.get<{ Params: { routeId: string } }>('/routes/:routeId', async (request) => routeDetail(options, request.params.routeId));

      app.get<{ Querystring: { route?: string } }>('/rollouts', async (request) => ({ rollouts: await options.rollouts.list(request.query.route || undefined), defaults: options.rolloutDefaults }));
      // As `cutover rollout start`: the first step is a promotion, so the readiness gate guards it (409 unless forced, with the reason).
      app.post<{ Params: { pattern: string } }>('/rollouts/:pattern/start', async (request) => {
        const parsed = rolloutStart.safeParse(request.body ?? {});
        if (!parsed.success) throw new CutoverError('CUTOVER_ERR_ROLLOUT_INVALID', `invalid rollout start: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ')} (the actor is the signed-in token's name)`);
        const { steps, stepDurationMs, checks, reason, force } = { ...options.rolloutDefaults, ...parsed.data };
        return startRollout(parts(), { pattern: request.params.pattern, steps, stepDurationMs, checks, reason, force, actor: actorOf(request), now: clock() });
      });
      app.post<{ Params: { pattern: string } }>('/rollouts/:pattern/pause', async (request) => {
        parseAction(request.body);
        return { rollouts: await pauseRollout(parts(), request.params.pattern, clock()) };
      });
      app.post<{ Params: { pattern: string } }>('/rollouts/:pattern/resume', async (request) => {
        parseAction(request.body);
        return { rollouts: await resumeRollout(parts(), request.params.pattern, clock()) };
      });
      app.post<{ Params: { pattern: string } }>('/rollouts/:pattern/abort', async (request) => {
        const { reason } = parseAction(request.body);
        if (!reason?.trim()) throw new CutoverError('CUTOVER_ERR_FLAG_REASON_REQUIRED', 'rollout abort was refused: no reason given');
        return { rollouts: await abortRollout(parts(), request.params.pattern, { actor: actorOf(request), reason }, clock()) };
      });

      // Server-sent events: every new flag snapshot the proxy's live source loads (a NOTIFY from any instance, the CLI, the store).
      app.get('/events', async (request, reply) => {
        reply.hijack();
        const response = reply.raw;
        response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'keep-alive' });
        streams.add(response);
        watchRollouts();
        let last = '';
        const send = (snapshot: FlagSnapshot) => {
          const data = JSON.stringify(flagEvent(snapshot));
          if (data === last) return;
          last = data;
          response.write(`event: flags\ndata: ${data}\n\n`);
        };
        response.write('retry: 1000\n\n');
        send(options.flagSource.current());
        const unsubscribe = options.flagSource.onChange?.(send);
        // A source without change events (a test's fake store) is looked at every second instead.
        const timer = setInterval(() => (unsubscribe ? response.write(': keep-alive\n\n') : send(options.flagSource.current())), unsubscribe ? heartbeatMs : 1000);
        timer.unref();
        request.raw.once('close', () => {
          streams.delete(response);
          watchRollouts();
          clearInterval(timer);
          unsubscribe?.();
        });
      });
      // Streams never go idle, so they are ended before the server waits for its connections.
      app.addHook('preClose', async () => {
        for (const stream of streams) stream.end();
        streams.clear();
        watchRollouts();
      });
    },
  };
}
