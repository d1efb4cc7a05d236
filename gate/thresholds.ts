/** A route's gate thresholds: config.gate.thresholds, then the route's `gate:` in flags/routes.yaml, then the command line. */
import type { GateOverrides, GateThresholds } from '../src/config/schema.js';
import type { Route } from '../flags/route-catalogue.js';

const defined = (overrides: GateOverrides | undefined): GateOverrides =>
  Object.fromEntries(Object.entries(overrides ?? {}).filter(([, value]) => value !== undefined)) as GateOverrides;

export function thresholdsFor(configured: GateThresholds, route: Pick<Route, 'gate'> | undefined, command?: GateOverrides): GateThresholds {
  return Object.freeze({ ...configured, ...defined(route?.gate), ...defined(command) });
}
