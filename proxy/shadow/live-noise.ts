/**
 * Calibrated noise for the proxy's live comparisons, as replay and fuzz use it: what
 * `cutover calibrate` learnt per route (the NoiseStore), with what the route's rules pin or
 * turn off (routeNoise). Read at start and again every `refreshMs`, so a new calibration
 * reaches a running proxy; when the store cannot be read, the profiles last read stay.
 * Without a store, the routes' pinned noise alone applies.
 */
import type { RouteCatalogue } from '../../flags/route-catalogue.js';
import type { NoiseProfile } from '../../parity/compare/noise.js';
import { routeNoise, type LearnedRoute } from '../../parity/runner/calibrate-learn.js';
import type { NoiseStore } from '../../parity/runner/noise-store.js';

export class LiveNoise {
  private learned = new Map<string, LearnedRoute>();
  /** Per route, computed once per read of the store (undefined: no noise on that route). */
  private readonly profiles = new Map<string, NoiseProfile | undefined>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly catalogue: RouteCatalogue,
    private readonly store?: NoiseStore,
    private readonly refreshMs = 60_000,
  ) {}

  /** Reads the store once, then keeps reading it every `refreshMs`. */
  async start(): Promise<void> {
    await this.refresh();
    if (!this.store) return;
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    if (!this.store) return;
    try {
      const list = await this.store.list();
      this.learned = new Map(list.map((learned) => [learned.routeId, learned]));
      this.profiles.clear();
    } catch {
      // The last profiles read stay: noise is a refinement, and a comparison without it only errs towards mismatch.
    }
  }

  forRoute(routeId: string): NoiseProfile | undefined {
    if (!this.profiles.has(routeId)) this.profiles.set(routeId, routeNoise(routeId, this.learned.get(routeId), this.catalogue.byId(routeId)?.compare));
    return this.profiles.get(routeId);
  }

  close(): void {
    clearInterval(this.timer);
  }
}
