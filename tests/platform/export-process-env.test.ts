import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { reimplServiceSpecs } from '../../src/platform/reimpl-services.js';
import { readServiceEnv } from '../../reimpl/shared/service-env.js';

const environment = { databaseUrl: 'postgres://127.0.0.1:9/none', exportDir: '/tmp/none' };

describe('the processes that write GIS exports', () => {
  it("run with glibc's arena limit and the heap ceiling; a sync without the export mounted runs without them", () => {
    const config = loadConfig({ env: {} });
    const [sync, gisExport] = reimplServiceSpecs(config, { ...environment, mountGisExport: true });
    expect(sync!.env.MALLOC_ARENA_MAX).toBe('2');
    expect(gisExport!.env.MALLOC_ARENA_MAX).toBe('2');
    expect(sync!.args).toContain('--max-old-space-size=96');
    const [bare] = reimplServiceSpecs(config, { ...environment, mountGisExport: false }, config.reimpl, { only: ['sync'] });
    expect(bare!.env.MALLOC_ARENA_MAX).toBeUndefined();
    expect(bare!.args.some((arg) => arg.startsWith('--max-old-space-size'))).toBe(false);
  });

  it('leave the arena limit to glibc when it is configured 0', () => {
    const config = loadConfig({ env: { REIMPL_EXPORT_MALLOC_ARENA_MAX: '0' } });
    const [sync] = reimplServiceSpecs(config, { ...environment, mountGisExport: true }, config.reimpl, { only: ['sync'] });
    expect(sync!.env.MALLOC_ARENA_MAX).toBeUndefined();
  });

  it("are told their export workers' lifetime and RSS ceiling, which the service reads back", () => {
    const config = loadConfig({ env: { REIMPL_EXPORT_WORKER_IDLE_MS: '0', REIMPL_EXPORT_WORKER_RSS_CEILING_MB: '180' } });
    const [sync] = reimplServiceSpecs(config, { ...environment, mountGisExport: true }, config.reimpl, { only: ['sync'] });
    expect(readServiceEnv(sync!.env, 8180).gisExportWorkerLifetime).toEqual({ idleLifetimeMs: 0, rssCeilingMb: 180 });
    const defaults = loadConfig({ env: {} }).reimpl.exportWorkers;
    expect(readServiceEnv({}, 8180).gisExportWorkerLifetime).toEqual(defaults);
  });
});
