/** The readiness gate as the flags' promotion guard: a route may move toward the reimplementation only when it is READY over the gate's window. */
import type { PromotionGuard } from '../flags/promotion-guard.js';
import { runGate, type GateSources } from './gate.js';

export function gatePromotionGuard(sources: GateSources, windowHours: number, clock: () => Date = () => new Date()): PromotionGuard {
  return {
    async refusals(routeIds) {
      const now = clock();
      const since = new Date(now.getTime() - windowHours * 3_600_000);
      const refusals = [];
      for (const routeId of routeIds) {
        const report = await runGate(sources, { route: routeId, since, now });
        for (const route of report.routes) if (route.verdict !== 'READY') refusals.push({ routeId: route.routeId, verdict: route.verdict, failed: route.failed });
      }
      return refusals;
    },
  };
}
