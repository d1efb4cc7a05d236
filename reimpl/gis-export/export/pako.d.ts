/** The part of pako 2 (no bundled types) the zip writer uses: zlib's deflate, ported byte for byte. */
declare module 'pako' {
  export class Deflate {
    constructor(options?: { level?: number; raw?: boolean });
    push(data: Uint8Array, flushMode?: boolean | number): boolean;
    onData(chunk: Uint8Array): void;
    err: number;
    msg: string;
  }
}
