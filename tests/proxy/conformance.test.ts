// Differential conformance against llhttp (issue 9 item 3): generated requests — valid, edge
// cases, malformed, the smuggling families (CL.TE, TE.CL, TE.TE obfuscations, CL.0, framing
// named by Connection), pipelined mixes, cut at random byte boundaries — go through a real
// front door to a recording upstream, and the same bytes to a plain node:http server. The
// upstream sees exactly what llhttp parsed from them, or the client got a 4xx and the upstream
// saw nothing more from that connection (tests/proxy/conformance.ts). 1,000 cases on the fast
// lane and 200 on the node:http path here; the reliability run (npm run reliability) runs 20,000.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../proxy/start.js';
import { connectionCase, runCase, startRecordingServer, type RecordingServer } from './conformance.js';
import { ManualFlags, startProxyWithLegacyAt, startUpstreams, type TestUpstream, type Upstreams } from './harness.js';

describe.each([
  ['the fast lane', true, 1000],
  ['the node:http path', false, 200],
])('a front door on %s, against llhttp', (_path, fastLane, runs) => {
  let upstreams: Upstreams;
  let reference: RecordingServer;
  let upstream: RecordingServer;
  let proxy: RunningProxy;

  beforeAll(async () => {
    upstreams = await startUpstreams();
    [reference, upstream] = await Promise.all([startRecordingServer(), startRecordingServer()]);
    // POST /echo is shadowed, so the lane's shadow path (body read whole first) is driven too.
    const flags = new ManualFlags();
    flags.set('sync.echo', 'shadow');
    // Short client-side bounds: a generated body shorter than its length ends in a 408, not a hung case.
    proxy = await startProxyWithLegacyAt(upstreams, upstream.port, { proxy: { fastLane, headersTimeoutMs: 1000, requestTimeoutMs: 1000 } }, flags);
  });
  afterAll(async () => {
    await proxy.close();
    await Promise.all([reference.close(), upstream.close(), ...Object.values(upstreams).map((one: TestUpstream) => one.close())]);
  });

  it(`gives the upstream exactly what llhttp parses from the same bytes, or a 4xx and nothing more (${runs} cases)`, async () => {
    const port = Number(new URL(proxy.urls.sync!).port);
    const kinds = { same: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(connectionCase, async ({ messages, cuts }) => {
        const verdict = await runCase(reference, upstream, port, Buffer.from(messages.join(''), 'latin1'), cuts);
        if (verdict.ok) kinds[verdict.kind as 'same' | 'refused']++;
        expect(verdict, JSON.stringify(verdict)).toMatchObject({ ok: true });
      }),
      { numRuns: runs },
    );
    // Both outcomes were exercised: served as llhttp parsed, and refused.
    expect(kinds.same).toBeGreaterThan(0);
    expect(kinds.refused).toBeGreaterThan(0);
  }, 120_000);
});
