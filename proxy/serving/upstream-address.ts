/**
 * Where an upstream lives: its URL on one side (config.proxy.upstreams, set in a file or by
 * CUTOVER_UPSTREAM_<SIDE>_<NAME>), else the harness's own service of that name (where
 * `cutover up` starts it), else nowhere: a missing upstream, which the proxy answers 502 for.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { RouteCatalogue } from '../../flags/route-catalogue.js';
import { upstreamEnvName, upstreamSides, type CutoverConfig, type Endpoint, type UpstreamSide } from '../../src/config/schema.js';
import { CutoverError } from '../../src/errors.js';

export interface UpstreamAddress {
  side: UpstreamSide;
  name: string;
  /** The upstream's URL without a trailing slash, or undefined when the config gives it nowhere. */
  url: string | undefined;
}

/** The variable that sets this upstream, e.g. CUTOVER_UPSTREAM_REIMPL_GIS_EXPORT. */
export function upstreamVariable(side: UpstreamSide, name: string): string {
  return `CUTOVER_UPSTREAM_${upstreamSides[side]}_${upstreamEnvName(name)}`;
}

/** The URL of upstream `name` on `side`. */
export function upstreamAddress(config: CutoverConfig, side: UpstreamSide, name: string): UpstreamAddress {
  const explicit = config.proxy.upstreams[side][upstreamEnvName(name)];
  if (explicit) return { side, name, url: explicit };
  const platform = (config[side] as Readonly<Record<string, Endpoint | undefined>>)[name];
  return { side, name, url: platform ? `http://${platform.host}:${platform.port}` : undefined };
}

/**
 * Every upstream the given services' routes can reach: both serving sides, and the shadow
 * instances of services with a route that writes or correlates ids (only their copies go
 * there); a named upstream on the reimplementation sides only.
 */
export function upstreamsInUse(config: CutoverConfig, catalogue: RouteCatalogue, services: readonly string[]): UpstreamAddress[] {
  const found: UpstreamAddress[] = [];
  for (const declaration of catalogue.services.filter((service) => services.includes(service.name))) {
    const named = new Set(catalogue.routes.filter((route) => route.service === declaration.name && route.upstream).map((route) => route.upstream!));
    const own = declaration.upstreams[0]!;
    const isolated = catalogue.routes.some((route) => route.service === declaration.name && (route.writes || (route.correlation?.length ?? 0) > 0));
    for (const side of Object.keys(upstreamSides) as UpstreamSide[]) {
      if (!isolated && (side === 'shadowLegacy' || side === 'shadowReimpl')) continue;
      const names = side === 'reimpl' || side === 'shadowReimpl' ? [own, ...declaration.upstreams.slice(1).filter((name) => named.has(name))] : [own];
      for (const name of names) found.push(upstreamAddress(config, side, name));
    }
  }
  return found;
}

/** The TLS options of https upstreams (CA bundle, client certificate), read once; an unreadable file stops the start. */
export function upstreamTls(config: CutoverConfig): ConnectionOptions {
  const { caFile, certFile, keyFile } = config.proxy.upstreamTls;
  const read = (what: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new CutoverError('CUTOVER_ERR_CONFIG_INVALID', `proxy.upstreamTls.${what} ${file} cannot be read: ${(error as Error).message}`);
    }
  };
  const ca = read('caFile', caFile);
  const cert = read('certFile', certFile);
  const key = read('keyFile', keyFile);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}
