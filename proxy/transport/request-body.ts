/**
 * Reading the request body once so it can be replayed to both sides. Up to the limit it is
 * buffered; past it the request is still forwarded (the bytes read so far, then the rest,
 * streamed) but not shadowed. Requests without a body cost nothing.
 */
import type { IncomingMessage } from 'node:http';

export type RequestBody =
  | { kind: 'none' }
  | { kind: 'buffered'; bytes: Buffer }
  /** Too large to shadow: `stream` replays what was read, then the rest. */
  | { kind: 'too-large'; stream: AsyncIterable<Buffer> | IncomingMessage }
  | { kind: 'aborted' };

export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

async function* replay(read: Buffer[], rest: IncomingMessage): AsyncIterable<Buffer> {
  yield* read;
  for await (const chunk of rest) yield chunk as Buffer;
}

/** Buffers the body up to `limit` bytes. */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<RequestBody> {
  if (!hasBody(req)) return Promise.resolve({ kind: 'none' });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: 'too-large', stream: req });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('aborted', onAbort);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        req.pause();
        stop();
        resolve({ kind: 'too-large', stream: replay(chunks, req) });
      }
    };
    const onEnd = () => {
      stop();
      resolve({ kind: 'buffered', bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    };
    const onAbort = () => {
      stop();
      resolve({ kind: 'aborted' });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('aborted', onAbort);
  });
}
