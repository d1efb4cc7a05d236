/**
 * A zip member deflated on a worker thread while the export is still writing it, so the
 * Shapefile's .dbf (~900 bytes a parcel: 181 MB at 200k, 2.5-3.4 s of pako on this machine)
 * is compressed on the other core instead of after the export, on this one. The bytes and the
 * stream are what zip.ts would produce from the finished file (pako level 1, raw; its output
 * does not depend on how the input is cut into pushes), so a member deflated here can be put
 * in the zip as it is. Anything going wrong (no zlib.crc32, the worker dying) only means the
 * member is deflated from disk as before. The thread is kept for the next job, so pako is
 * loaded and compiled once per process, not once per export (decision 0039).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import * as zlib from 'node:zlib';

/** A member deflated ahead: its compressed bytes in `path`, with what the zip headers need. */
export interface DeflatedMember {
  path: string;
  crc: number;
  size: number;
  compressed: number;
}

// The worker's program, CommonJS for `eval`: a file of its own would need an entry in each way
// the services are built and run (esbuild bundle, tsx from source, the offline bundle's files).
// It deflates one member at a time and is kept for the next job's (pako loaded and compiled once).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, writeSync, closeSync } = require('node:fs');
const { crc32 } = require('node:zlib');
const { Deflate } = require(workerData.pako);
let fd, deflate, crc, size, compressed;
parentPort.on('message', (message) => {
  if (message.start) {
    fd = openSync(message.start, 'w');
    deflate = new Deflate({ level: 1, raw: true });
    crc = 0; size = 0; compressed = 0;
    deflate.onData = (chunk) => { writeSync(fd, chunk); compressed += chunk.length; };
    return;
  }
  if (message.bytes) {
    const bytes = new Uint8Array(message.bytes, 0, message.length);
    crc = crc32(bytes, crc);
    size += bytes.length;
    deflate.push(bytes, false); // copied into the window: the buffer goes back for reuse
    parentPort.postMessage({ done: message.bytes }, [message.bytes]);
    return;
  }
  deflate.push(new Uint8Array(0), true);
  closeSync(fd);
  parentPort.postMessage(deflate.err ? { error: String(deflate.msg) } : { crc, size, compressed });
  deflate = undefined;
});
`;

/** The deflation thread kept between jobs, one per process; a second job at the same time starts its own. */
let parked: Worker | undefined;

function deflationThread(): Worker {
  const kept = parked;
  parked = undefined;
  if (kept) {
    kept.ref();
    return kept;
  }
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { pako: createRequire(import.meta.url).resolve('pako') },
    // pako's state is ~0.5 MB; the chunks arrive as transferred buffers, outside the heap.
    resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
    stdout: false,
    stderr: false,
  });
  const forget = () => {
    if (parked === worker) parked = undefined;
  };
  worker.on('exit', forget);
  // Always listened to: between members (parked, or its member's listeners already removed) an
  // 'error' with no listener would be thrown by the emitter and end the service.
  worker.on('error', forget);
  return worker;
}

/** Keeps a thread that deflated its member whole for the next job; ends it if one is kept already. */
function park(worker: Worker): Promise<void> {
  if (parked) return worker.terminate().then(() => undefined);
  worker.unref(); // a parked thread does not keep the process alive
  parked = worker;
  return Promise.resolve();
}

type WorkerAnswer = { done: ArrayBuffer } | { error: string } | { crc: number; size: number; compressed: number };

// Bytes sent and not yet deflated before push() makes the export wait: the worker's queue is memory.
const IN_FLIGHT_LIMIT = 2 << 20;
const PIECE_BYTES = 256 << 10;

export class MemberDeflation {
  private readonly worker: Worker;
  private inFlight = 0;
  // Buffers go to the worker and come back: a fresh ArrayBuffer per piece would be garbage the
  // worker's GC frees late (external memory), growing the process's RSS meanwhile.
  private readonly spare: ArrayBuffer[] = [];
  private resume: (() => void) | undefined;
  private failed = false;
  private readonly result: Promise<DeflatedMember | undefined>;

  private constructor(readonly path: string) {
    this.worker = deflationThread();
    this.result = new Promise((resolve) => {
      let settled = false;
      const give = (member: DeflatedMember | undefined) => {
        if (settled) return;
        settled = true;
        this.failed = member === undefined;
        this.worker.off('message', onMessage).off('error', onFailure).off('exit', onFailure);
        this.wake();
        resolve(member);
      };
      const onMessage = (answer: WorkerAnswer) => {
        if ('done' in answer) {
          this.inFlight -= answer.done.byteLength;
          this.spare.push(answer.done);
          if (this.inFlight < IN_FLIGHT_LIMIT) this.wake();
        } else if ('error' in answer) give(undefined);
        else give({ path, ...answer });
      };
      const onFailure = () => give(undefined);
      this.worker.on('message', onMessage).on('error', onFailure).on('exit', onFailure);
    });
    this.worker.postMessage({ start: path });
  }

  /** The thread deflating this member (kept for the next job's when it ends well). */
  get threadId(): number {
    return this.worker.threadId;
  }

  /** A deflation into `path`, or undefined where this Node has no zlib.crc32 (before 20.15). */
  static start(path: string): MemberDeflation | undefined {
    return typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? new MemberDeflation(path) : undefined;
  }

  private wake(): void {
    const resume = this.resume;
    this.resume = undefined;
    resume?.();
  }

  /** Sends a copy of `bytes` (the caller reuses its buffer); waits while the worker is more than 2 MiB behind. */
  async push(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length && !this.failed; at += PIECE_BYTES) {
      const piece = bytes.subarray(at, at + PIECE_BYTES);
      const buffer = this.spare.pop() ?? new ArrayBuffer(PIECE_BYTES);
      new Uint8Array(buffer).set(piece);
      this.inFlight += buffer.byteLength;
      this.worker.postMessage({ bytes: buffer, length: piece.length }, [buffer]);
      while (this.inFlight >= IN_FLIGHT_LIMIT && !this.failed) await new Promise<void>((resolve) => (this.resume = resolve));
    }
  }

  /** The member, once everything pushed is deflated; undefined if the worker failed. */
  async finish(): Promise<DeflatedMember | undefined> {
    if (!this.failed) this.worker.postMessage({ end: true });
    const member = await this.result;
    if (member) await park(this.worker);
    else await this.worker.terminate();
    return member;
  }

  /** Stops the worker (mid-member: the next job starts another); what it wrote is left for the caller to remove with the job's directory. */
  async abandon(): Promise<void> {
    await this.worker.terminate();
  }
}
