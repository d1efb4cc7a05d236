/**
 * The export worker process: runs GIS exports with gdal-async's synchronous API, one at a
 * time, off the HTTP service's event loop (gdal-async does not support worker_threads, and
 * its per-call async API would pay a thread-pool hop per feature). Messages over IPC:
 * in {type:'export', request} | {type:'cancel', jobId}; out {jobId, ok, result} | {jobId, ok:false, error}.
 */
import { runExport, type ExportRequest } from './run-export.js';

const cancelled = new Set<string>();
let queue = Promise.resolve();

process.on('message', (message: { type: 'export'; request: ExportRequest } | { type: 'cancel'; jobId: string }) => {
  if (message.type === 'cancel') {
    cancelled.add(message.jobId);
    return;
  }
  const { request } = message;
  queue = queue.then(async () => {
    try {
      const result = await runExport(request, () => cancelled.has(request.jobId));
      process.send!({ jobId: request.jobId, ok: true, result });
    } catch (error) {
      process.send!({ jobId: request.jobId, ok: false, error: error instanceof Error ? error.message : String(error), errorType: error instanceof Error ? error.constructor.name : 'Error' });
    } finally {
      cancelled.delete(request.jobId);
    }
  });
});
process.on('disconnect', () => process.exit(0));
