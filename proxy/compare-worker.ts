/**
 * A comparison worker: a child process of the proxy (forked by compare-pool.ts) that judges
 * shadowed exchanges with the parity engine's async path — exported files opened with GDAL —
 * and settles job races (eventual-state.ts), off the proxy's event loop. Messages over IPC
 * (structured clone): in {id, job}; out {id, ok: true, comparison} | {id, ok: false, message}.
 * It ends when the proxy disconnects, never on a terminal's Ctrl-C, so the proxy can still
 * compare what it has queued while it shuts down.
 */
import { compareAnswersAsync, type Comparison } from './compare.js';
import type { CompareJob, WorkerReply, WorkerRequest } from './compare-pool.js';
import { settleEventualState } from './eventual-state.js';
import type { SideResult } from './capture.js';

/** Structured clone turns a Buffer into a Uint8Array: the engine wants Buffers. */
const revive = (side: SideResult): SideResult => ({ ...side, body: Buffer.from(side.body.buffer, side.body.byteOffset, side.body.byteLength) });

async function judge(job: CompareJob): Promise<Comparison> {
  const serving = revive(job.serving);
  const shadow = revive(job.shadow);
  const compared = await compareAnswersAsync(serving, shadow, job.route.compare, undefined, job.correlations, job.extras);
  return settleEventualState(job.route, serving, shadow, compared);
}

const reply = (message: WorkerReply) => {
  // The proxy may be gone (it disconnects on close): nothing is left to answer.
  if (process.connected) process.send!(message);
};

// Ctrl-C signals the whole process group; the proxy ends this worker when it is done with it.
process.on('SIGINT', () => undefined);
process.on('disconnect', () => process.exit(0));
process.on('message', (message: WorkerRequest) => {
  judge(message.job).then(
    (comparison) => reply({ id: message.id, ok: true, comparison }),
    (error: unknown) => reply({ id: message.id, ok: false, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
  );
});
