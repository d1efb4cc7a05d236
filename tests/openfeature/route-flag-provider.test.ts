/**
 * The OpenFeature provider, through the SDK's own client API, against a real PostgreSQL flag
 * store: what each flag key resolves to, the proxy's sticky canary for a targeting key, the
 * kill switch, OpenFeature's error codes, and a change made in the store reaching a client
 * (and its ConfigurationChanged handler) over LISTEN/NOTIFY.
 */
import { ErrorCode, OpenFeature, ProviderEvents, StandardResolutionReasons, type Client, type EventDetails } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlagStore } from '../../flags/flag-store.js';
import { createLiveFlagSource, type LiveFlagSource } from '../../flags/live-flag-source.js';
import { createPgFlagStore } from '../../flags/pg-flag-store.js';
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import { RouteFlagProvider } from '../../openfeature/route-flag-provider.js';
import { inCanary } from '../../proxy/serving/canary.js';
import { closedPort } from '../proxy/harness.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';

const catalogue = loadRouteCatalogue();
const who = { actor: 'qa@openfeature-test', reason: 'exercise the OpenFeature provider' };
const domain = 'cutover-route-flags-test';
let database: IsolatedDatabase;
let store: FlagStore;
let source: LiveFlagSource;
let client: Client;
const changes: Array<EventDetails<ProviderEvents.ConfigurationChanged>> = [];

/** Polls `read` until `accept` holds, failing with the last value after `deadlineMs`. */
async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, deadlineMs = 5_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  let value = await read();
  while (!accept(value)) {
    if (Date.now() > until) throw new Error(`not within ${deadlineMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}

beforeAll(async () => {
  database = await createIsolatedDatabase('openfeature', { migrated: true });
  store = createPgFlagStore({ url: database.url, catalogue });
  await store.set({ pattern: 'sync.health', mode: 'shadow', ...who });
  await store.set({ pattern: 'sync.counties.list', mode: 'canary', percent: 30, ...who });
  await store.set({ pattern: 'sync.counties.get', mode: 'reimpl', ...who });
  // A safety reload far beyond every deadline below: only NOTIFY can bring a change in time.
  source = createLiveFlagSource({ url: database.url, refreshIntervalMs: 600_000 });
  await OpenFeature.setProviderAndWait(domain, new RouteFlagProvider({ catalogue, source, ownsSource: true }));
  client = OpenFeature.getClient(domain);
  client.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
    if (details) changes.push(details);
  });
});

afterAll(async () => {
  await OpenFeature.clearProviders();
  await store?.close();
  await database?.drop();
});

describe('the route flags through an OpenFeature client', () => {
  it('resolve a route\'s mode as a string, statically, with the flag in the metadata', async () => {
    const details = await client.getStringDetails('sync.health.mode', 'legacy');
    expect(details).toMatchObject({ value: 'shadow', variant: 'shadow', reason: StandardResolutionReasons.STATIC, flagMetadata: { route: 'sync.health', flagMode: 'shadow', storeState: 'live' } });
    expect(await client.getStringValue('sync.properties.list.mode', 'nothing')).toBe('legacy');
  });

  it('resolve whether the reimplementation serves a targeting key with the proxy\'s sticky canary hashing', async () => {
    const keys = Array.from({ length: 400 }, (_, index) => `county-${index}`);
    const served = await Promise.all(keys.map((targetingKey) => client.getBooleanDetails('sync.counties.list.serve-reimpl', false, { targetingKey })));
    expect(served.map((details) => details.value)).toEqual(keys.map((key) => inCanary(key, 30)));
    expect(served.every((details) => details.reason === StandardResolutionReasons.SPLIT && details.variant === (details.value ? 'reimpl' : 'legacy'))).toBe(true);
    // Both sides are reached: the split is real, not a constant.
    expect(new Set(served.map((details) => details.value))).toEqual(new Set([true, false]));
    // Sticky: the same key gets the same answer again.
    expect(await client.getBooleanValue('sync.counties.list.serve-reimpl', false, { targetingKey: 'county-7' })).toBe(inCanary('county-7', 30));
  });

  it('resolve the share the reimplementation serves as a number', async () => {
    expect(await client.getNumberValue('sync.counties.list.canary-percent', -1)).toBe(30);
    expect(await client.getNumberValue('sync.counties.get.canary-percent', -1)).toBe(100);
    expect(await client.getNumberValue('sync.health.canary-percent', -1)).toBe(0);
    expect(await client.getBooleanValue('sync.counties.get.serve-reimpl', false)).toBe(true);
  });

  it('answer FLAG_NOT_FOUND for an unknown route or attribute, with the caller\'s default', async () => {
    expect(await client.getStringDetails('sync.no-such-route.mode', 'fallback')).toMatchObject({ value: 'fallback', errorCode: ErrorCode.FLAG_NOT_FOUND, reason: StandardResolutionReasons.ERROR });
    expect(await client.getStringDetails('sync.health.colour', 'fallback')).toMatchObject({ value: 'fallback', errorCode: ErrorCode.FLAG_NOT_FOUND });
    expect(await client.getBooleanDetails('mode', true)).toMatchObject({ value: true, errorCode: ErrorCode.FLAG_NOT_FOUND });
  });

  it('answer TYPE_MISMATCH when a flag is read as another type', async () => {
    expect(await client.getBooleanDetails('sync.health.mode', true)).toMatchObject({ value: true, errorCode: ErrorCode.TYPE_MISMATCH });
    expect(await client.getNumberDetails('kill-switch', 5)).toMatchObject({ value: 5, errorCode: ErrorCode.TYPE_MISMATCH });
    expect(await client.getObjectDetails('sync.health.canary-percent', { x: 1 })).toMatchObject({ value: { x: 1 }, errorCode: ErrorCode.TYPE_MISMATCH });
  });

  it('answer TARGETING_KEY_MISSING for a split canary asked without a targeting key', async () => {
    expect(await client.getBooleanDetails('sync.counties.list.serve-reimpl', false)).toMatchObject({ value: false, errorCode: ErrorCode.TARGETING_KEY_MISSING });
  });

  it('see a change made in the store within a deadline, and get a ConfigurationChanged event naming its keys', async () => {
    const before = changes.length;
    await store.set({ pattern: 'sync.properties.get', mode: 'shadow', ...who });
    await eventually(() => client.getStringValue('sync.properties.get.mode', 'legacy'), (mode) => mode === 'shadow');
    const event = await eventually(async () => changes.slice(before).find((details) => details.flagsChanged?.includes('sync.properties.get.mode')), (found) => found !== undefined);
    expect(event!.flagsChanged).toEqual(expect.arrayContaining(['sync.properties.get.mode', 'sync.properties.get.serve-reimpl', 'sync.properties.get.canary-percent']));
    expect(event!.flagsChanged).not.toContain('sync.health.mode');
  });

  it('send everything to legacy under the kill switch, as disabled, and back when it is released', async () => {
    await store.setKillSwitch(true, who);
    await eventually(() => client.getBooleanValue('kill-switch', false), (on) => on);
    expect(await client.getStringDetails('sync.counties.get.mode', 'x')).toMatchObject({ value: 'legacy', variant: 'reimpl', reason: StandardResolutionReasons.DISABLED });
    expect(await client.getBooleanValue('sync.counties.list.serve-reimpl', true, { targetingKey: 'county-7' })).toBe(false);
    expect(await client.getNumberValue('sync.counties.get.canary-percent', -1)).toBe(0);
    await store.setKillSwitch(false, who);
    await eventually(() => client.getStringValue('sync.counties.get.mode', 'x'), (mode) => mode === 'reimpl');
    expect(changes.some((details) => details.flagsChanged?.includes('kill-switch'))).toBe(true);
  });
});

describe('a provider whose flag store cannot be read', () => {
  it('is not ready, and its flags answer PROVIDER_NOT_READY with the default', async () => {
    const unreachable = createLiveFlagSource({ url: `postgres://root@127.0.0.1:${await closedPort()}/none`, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    const otherDomain = `${domain}-unreachable`;
    await expect(OpenFeature.setProviderAndWait(otherDomain, new RouteFlagProvider({ catalogue, source: unreachable, ownsSource: true }))).rejects.toThrow(/flag store/);
    const details = await OpenFeature.getClient(otherDomain).getStringDetails('sync.health.mode', 'legacy');
    expect(details).toMatchObject({ value: 'legacy', errorCode: ErrorCode.PROVIDER_NOT_READY });
  });
});
