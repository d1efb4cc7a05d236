import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { reimplServiceSpecs } from '../../src/platform/reimpl-services.js';

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
});
