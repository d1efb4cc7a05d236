/**
 * The export worker process: runs GIS exports with gdal-async's synchronous API, one at a
 * time, off the HTTP service's event loop (gdal-async does not support worker_threads, and
 * its per-call async API would pay a thread-pool hop per feature), and shapes the boundary
 * features of the exports the service writes itself (boundary-shaping.ts), so that only this
 * worker process (export-worker.ts) ever loads GDAL. Messages over IPC:
 * in  {type:'export', request} | {type:'cancel', jobId} | {type:'shape', jobId, areaOfInterest, tolerance, features};
 * out {ready, rss} once loaded, then {jobId, ok, result, rss} | {jobId, ok:false, error, rss} | {jobId, ok, geometries, rss}:
 * the RSS (bytes) at each answer tells the service when to replace this process (export-worker.ts).
 */
import { gdalShaper, type BoundaryFeature } from './boundary-shaping.js';
import { runExport, type ExportRequest } from './run-export.js';
import type { Shaped } from './text-export.js';

type Message =
  | { type: 'export'; request: ExportRequest }
  | { type: 'cancel'; jobId: string }
  | { type: 'shape'; jobId: string; areaOfInterest: unknown; tolerance: number; features: BoundaryFeature[] };

const cancelled = new Set<string>();
let queue = Promise.resolve();
/** The shaper of the last area and tolerance asked for: an export sends many batches with the same. */
let shaper: { key: string; shape: Promise<(feature: BoundaryFeature) => Shaped | null> } | undefined;

const answer = (reply: object) => process.send!({ ...reply, rss: process.memoryUsage().rss });
const failure = (jobId: string, error: unknown) => ({
  jobId,
  ok: false,
  error: error instanceof Error ? error.message : String(error),
  errorType: error instanceof Error ? error.constructor.name : 'Error',
});

process.on('message', (message: Message) => {
  if (message.type === 'cancel') {
    cancelled.add(message.jobId);
    return;
  }
  if (message.type === 'shape') {
    const key = JSON.stringify([message.areaOfInterest, message.tolerance]);
    if (shaper?.key !== key) shaper = { key, shape: gdalShaper(message.areaOfInterest, message.tolerance) };
    // GDAL failing to load and a feature failing to shape both come back as the batch's failure.
    shaper.shape
      .then((shape) => answer({ jobId: message.jobId, ok: true, geometries: message.features.map(shape) }))
      .catch((error: unknown) => answer(failure(message.jobId, error)));
    return;
  }
  const { request } = message;
  queue = queue.then(async () => {
    try {
      const result = await runExport(request, () => cancelled.has(request.jobId));
      answer({ jobId: request.jobId, ok: true, result });
    } catch (error) {
      answer(failure(request.jobId, error));
    } finally {
      cancelled.delete(request.jobId);
    }
  });
});
process.on('disconnect', () => process.exit(0));
answer({ ready: true });
