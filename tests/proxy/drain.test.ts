/** Shutdown for an orchestrator: stop accepting, let what is in flight finish within a deadline, flush, then close. */
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, eventually, startTestProxy, startUpstreams, stopTestProxy, type Behaviour, type ProxyUnderTest, type Upstreams } from './harness.js';

let upstreams: Upstreams;
let subject: ProxyUnderTest;

/** An answer held until the test releases it. */
function heldAnswer(): { behaviour: Behaviour; arrived: Promise<void>; release(): void } {
  let release!: () => void;
  let arrive!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  return {
    arrived,
    release,
    behaviour: (req, res) => {
      arrive();
      void released.then(() => {
        const body = JSON.stringify({ held: true, url: req.url });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    },
  };
}

function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

for (const fastLane of [true, false]) {
  describe(`a draining proxy (${fastLane ? 'fast lane' : 'node:http path'})`, () => {
    beforeEach(async () => {
      upstreams = await startUpstreams();
      subject = await startTestProxy(upstreams, { proxy: { fastLane } });
    });
    afterEach(() => stopTestProxy(subject, upstreams));

    it('stops accepting, answers the request in flight, and only then is done', async () => {
      const held = heldAnswer();
      upstreams.legacy.behave(held.behaviour);
      const inFlight = call(`${subject.url}/health`);
      await held.arrived;
      const drained = subject.proxy.drain(10_000);
      expect(subject.proxy.state()).toBe('draining');
      await eventually(async () => ((await refused(subject.url)) ? true : undefined));
      held.release();
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body.toString())).toEqual({ held: true, url: '/health' });
      expect(await drained).toMatchObject({ connectionsCut: 0, shadowsLeft: 0 });
    });

    it('waits for a shadow copy in flight and flushes its observation', async () => {
      subject.flags.set('sync.health', 'shadow');
      const held = heldAnswer();
      upstreams.reimpl.behave(held.behaviour);
      expect((await call(`${subject.url}/health`)).status).toBe(200);
      await held.arrived;
      const drained = subject.proxy.drain(10_000);
      held.release();
      expect(await drained).toMatchObject({ connectionsCut: 0, shadowsLeft: 0 });
      const observations = await subject.store.list({ routeId: 'sync.health' });
      expect(observations).toHaveLength(1);
      expect(observations[0]!.shadow.status).toBe(200);
    });

    it('cuts what is still in flight at the deadline, and counts it', async () => {
      const held = heldAnswer();
      upstreams.legacy.behave(held.behaviour);
      const inFlight = call(`${subject.url}/health`).then(
        (answer) => answer.status,
        () => 'cut',
      );
      await held.arrived;
      const outcome = await subject.proxy.drain(200);
      expect(outcome.connectionsCut).toBe(1);
      expect(await inFlight).toBe('cut');
      held.release();
    });
  });
}
