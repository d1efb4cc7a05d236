/**
 * An OpenFeature server provider over the cutover's route flags, so the services being migrated
 * (and anything else) read the flags through a standard API instead of the admin API. It reads
 * the same flag store as the proxy, over the same LISTEN/NOTIFY path (flags/live-flag-source.ts),
 * and decides with the proxy's own code (proxy/serving/decide.ts, proxy/serving/canary.ts): a targeting key in
 * the canary share here is in it at the proxy too.
 *
 * Flag keys (route ids contain dots, so the attribute is after the last one):
 *   `<route>.mode`            string   the route's effective mode (legacy under the kill switch)
 *   `<route>.serve-reimpl`    boolean  whether the reimplementation serves this targeting key
 *   `<route>.canary-percent`  number   the share the reimplementation serves, 0..100
 *   `kill-switch`             boolean  whether every route is sent to legacy
 * Unknown routes or attributes are FLAG_NOT_FOUND, the wrong type TYPE_MISMATCH, a canary
 * without a targeting key TARGETING_KEY_MISSING, flags never loaded PROVIDER_NOT_READY.
 */
import {
  FlagNotFoundError,
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderNotReadyError,
  StandardResolutionReasons,
  TargetingKeyMissingError,
  TypeMismatchError,
  type EvaluationContext,
  type FlagMetadata,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { flagFor, type FlagSnapshot } from '../flags/flag.js';
import type { LiveFlagSource } from '../flags/live-flag-source.js';
import type { Route, RouteCatalogue } from '../flags/route-catalogue.js';
import { canaryBucket } from '../proxy/serving/canary.js';
import { decide } from '../proxy/serving/decide.js';

export const killSwitchKey = 'kill-switch';
export const routeAttributes = ['mode', 'serve-reimpl', 'canary-percent'] as const;
export type RouteAttribute = (typeof routeAttributes)[number];

type FlagType = 'boolean' | 'string' | 'number' | 'object';
const attributeType: Record<RouteAttribute, FlagType> = { mode: 'string', 'serve-reimpl': 'boolean', 'canary-percent': 'number' };

/** The flags the provider reads: the proxy's live source (or any source with its onChange and ready). */
export type RouteFlagSource = Pick<LiveFlagSource, 'current' | 'ready' | 'onChange'> & Partial<Pick<LiveFlagSource, 'close'>>;

export interface RouteFlagProviderOptions {
  catalogue: RouteCatalogue;
  source: RouteFlagSource;
  /** Close the source when the provider closes (when it was made for the provider alone). */
  ownsSource?: boolean;
}

type Target = { kind: 'kill-switch' } | { kind: 'route'; route: Route; attribute: RouteAttribute };

/** The cutover's route flags as an OpenFeature provider; `events` carries Ready, Stale and ConfigurationChanged. */
export class RouteFlagProvider implements Provider {
  readonly metadata = { name: 'terrafusion-cutover-route-flags' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  private readonly catalogue: RouteCatalogue;
  private readonly source: RouteFlagSource;
  private readonly ownsSource: boolean;
  private unsubscribe: (() => void) | undefined;
  private last: FlagSnapshot | undefined;

  constructor(options: RouteFlagProviderOptions) {
    this.catalogue = options.catalogue;
    this.source = options.source;
    this.ownsSource = options.ownsSource ?? false;
  }

  /** Resolves once the flags are loaded; rejects (provider in ERROR) when the store could not be read, and turns Ready when it later can. */
  async initialize(): Promise<void> {
    this.unsubscribe ??= this.source.onChange((snapshot) => this.changed(snapshot));
    await this.source.ready();
    this.last = this.source.current();
    if (this.last.state === 'unavailable') throw new ProviderNotReadyError('the flag store could not be read; flags are not loaded yet');
  }

  async onClose(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.ownsSource) await this.source.close?.();
  }

  resolveBooleanEvaluation(flagKey: string, _defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.resolve(flagKey, 'boolean', context) as ResolutionDetails<boolean>);
  }

  resolveStringEvaluation(flagKey: string, _defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.resolve(flagKey, 'string', context) as ResolutionDetails<string>);
  }

  resolveNumberEvaluation(flagKey: string, _defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.resolve(flagKey, 'number', context) as ResolutionDetails<number>);
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, _defaultValue: T, context: EvaluationContext): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.resolve(flagKey, 'object', context) as ResolutionDetails<T>);
  }

  private target(flagKey: string): Target {
    if (flagKey === killSwitchKey) return { kind: 'kill-switch' };
    const dot = flagKey.lastIndexOf('.');
    const attribute = flagKey.slice(dot + 1) as RouteAttribute;
    const route = dot > 0 ? this.catalogue.byId(flagKey.slice(0, dot)) : undefined;
    if (!route || !routeAttributes.includes(attribute)) {
      throw new FlagNotFoundError(`no flag ${flagKey}: keys are ${killSwitchKey} or <route>.{${routeAttributes.join(',')}} for a route of the catalogue`);
    }
    return { kind: 'route', route, attribute };
  }

  private resolve(flagKey: string, type: FlagType, context: EvaluationContext): ResolutionDetails<boolean | string | number> {
    const target = this.target(flagKey);
    const expected = target.kind === 'kill-switch' ? 'boolean' : attributeType[target.attribute];
    if (type !== expected) throw new TypeMismatchError(`${flagKey} is a ${expected} flag, not ${type}`);
    const snapshot = this.source.current();
    if (snapshot.state === 'unavailable') throw new ProviderNotReadyError('the flag store has not been read yet');
    // Stale: the store is unreachable and these are the last flags known, as the proxy uses them.
    const settled = (reason: string) => (snapshot.state === 'stale' ? StandardResolutionReasons.STALE : reason);
    const metadata: FlagMetadata = { killSwitch: snapshot.killSwitch, storeState: snapshot.state, loadedAt: snapshot.loadedAt.toISOString() };
    if (target.kind === 'kill-switch') return { value: snapshot.killSwitch, reason: settled(StandardResolutionReasons.STATIC), flagMetadata: metadata };

    const flag = flagFor(snapshot, target.route.id);
    Object.assign(metadata, { route: target.route.id, flagMode: flag.mode, percent: flag.percent });
    const killed = snapshot.killSwitch ? StandardResolutionReasons.DISABLED : undefined;
    if (target.attribute === 'mode') {
      return { value: decide(target.route, snapshot, () => ({ source: 'header', value: '' })).mode, variant: flag.mode, reason: settled(killed ?? StandardResolutionReasons.STATIC), flagMetadata: metadata };
    }
    if (target.attribute === 'canary-percent') {
      const share = snapshot.killSwitch ? 0 : flag.mode === 'canary' ? flag.percent : flag.mode === 'reimpl' || flag.mode === 'retired' ? 100 : 0;
      return { value: share, reason: settled(killed ?? StandardResolutionReasons.STATIC), flagMetadata: metadata };
    }
    const split = !snapshot.killSwitch && flag.mode === 'canary' && flag.percent > 0 && flag.percent < 100;
    const key = context.targetingKey;
    if (split && (key === undefined || key === '')) throw new TargetingKeyMissingError(`${flagKey} is a ${flag.percent}% canary: give a targetingKey (the user, county or header the proxy keys on)`);
    // The proxy's decision itself, with the targeting key as the sticky key.
    const serving = decide(target.route, snapshot, () => ({ source: 'header', value: key ?? '' })).serving;
    if (split) Object.assign(metadata, { bucket: canaryBucket(key!) });
    return {
      value: serving === 'reimpl',
      variant: serving,
      reason: settled(killed ?? (split ? StandardResolutionReasons.SPLIT : StandardResolutionReasons.STATIC)),
      flagMetadata: metadata,
    };
  }

  private changed(snapshot: FlagSnapshot): void {
    const previous = this.last;
    this.last = snapshot;
    if (snapshot.state === 'stale' && previous?.state !== 'stale') {
      this.events.emit(ProviderEvents.Stale, { message: 'the flag store is unreachable; serving the last flags known' });
      return;
    }
    if (snapshot.state === 'unavailable') return;
    if (previous === undefined || previous.state !== 'live') {
      this.events.emit(ProviderEvents.Ready, { message: 'flags loaded from the store' });
      if (previous === undefined || previous.state === 'unavailable') return;
    }
    const flagsChanged = changedKeys(this.catalogue, previous, snapshot);
    if (flagsChanged.length > 0) this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged });
  }
}

/** The flag keys whose value may differ between two snapshots. */
function changedKeys(catalogue: RouteCatalogue, before: FlagSnapshot, after: FlagSnapshot): string[] {
  const keys: string[] = [];
  const killChanged = before.killSwitch !== after.killSwitch;
  if (killChanged) keys.push(killSwitchKey);
  for (const route of catalogue.routes) {
    const a = flagFor(before, route.id);
    const b = flagFor(after, route.id);
    if (killChanged || a.mode !== b.mode || a.percent !== b.percent) keys.push(...routeAttributes.map((attribute) => `${route.id}.${attribute}`));
  }
  return keys;
}
