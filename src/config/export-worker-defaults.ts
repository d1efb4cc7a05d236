/**
 * Defaults of reimpl.exportWorkers (schema.ts), in a module of their own so that an export
 * service started without GIS_EXPORT_WORKER_* (reimpl/shared/service-env.ts) uses the same
 * values without loading the whole configuration schema.
 */
export const exportWorkerDefaults = Object.freeze({ idleLifetimeMs: 1_500, rssCeilingMb: 256 });
