/**
 * A comparison worker: a child process of the proxy (forked by compare-pool.ts) that judges
 * shadowed exchanges with the parity engine's async path — exported files opened with GDAL —
 * and settles job races (eventual-state.ts), off the proxy's event loop. Messages over IPC
 * (structured clone): in {id, job}; out {id, ok: true, comparison} | {id, ok: false, message}.
 * It ends when the proxy disconnects (on close, or when the proxy dies), never on a terminal's
 * Ctrl-C (its own process group), so the proxy can still compare what it has queued while it shuts down.
 */
import { judgeJob, type CompareJob, type WorkerReply, type WorkerRequest } from './compare-pool.js';
import type { SideResult } from '../serving/capture.js';

/** Structured clone turns a Buffer into a Uint8Array: the engine wants Buffers. */
const revive = (side: SideResult): SideResult => ({ ...side, body: Buffer.from(side.body.buffer, side.body.byteOffset, side.body.byteLength) });

const judge = (job: CompareJob) => judgeJob({ ...job, serving: revive(job.serving), shadow: revive(job.shadow) });

const reply = (message: WorkerReply) => {
  // The proxy may be gone (it disconnects on close): nothing is left to answer.
  if (process.connected) process.send!(message);
};

// The worker runs in its own process group (no Ctrl-C reaches it): it ends when the proxy disconnects it, or dies.
process.on('disconnect', () => process.exit(0));
process.on('message', (message: WorkerRequest) => {
  judge(message.job).then(
    (comparison) => reply({ id: message.id, ok: true, comparison }),
    (error: unknown) => reply({ id: message.id, ok: false, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
  );
});
