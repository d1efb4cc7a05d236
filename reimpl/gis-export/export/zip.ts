/**
 * A streaming ZIP writer for the zipped Shapefile export, shaped like legacy's
 * `zipfile.ZipFile(path, "w", ZIP_DEFLATED, compresslevel=1)`: deflate level 1, sizes in the
 * local headers (patched after each entry), unix file modes. Memory stays bounded whatever
 * the size of the .shp: every file is streamed through the deflater.
 *
 * Deflate is pako's, not node:zlib's: Node bundles Chromium's zlib, whose level-1 stream is
 * not the one CPython's system zlib writes, so the zip's size (and `file_size_kb`, rounded up)
 * could differ from legacy's; pako is a byte-for-byte port of zlib (found by `cutover fuzz`).
 */
import { closeSync, createReadStream, openSync, statSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import * as zlib from 'node:zlib';
import { Deflate } from 'pako';
import type { DeflatedMember } from './member-deflation.js';

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

// zlib's own crc32 where Node has it (20.15+): the same polynomial, a native loop instead of a JS one.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

function crc32(crc: number, chunk: Buffer): number {
  if (nativeCrc32) return nativeCrc32(chunk, crc);
  let c = ~crc;
  for (let i = 0; i < chunk.length; i++) c = CRC_TABLE[(c ^ chunk[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function dosDateTime(date: Date): { time: number; day: number } {
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2),
    day: ((date.getFullYear() - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

interface Entry {
  name: Buffer;
  offset: number;
  crc: number;
  compressed: number;
  size: number;
  time: number;
  day: number;
  mode: number;
}

/**
 * Writes `files` (absolute paths) into a new ZIP at `zipPath`, entries named by their base name;
 * a file in `deflated` (member-deflation.ts) is copied from its ready deflate stream when its
 * size matches, instead of being deflated here.
 */
export async function writeZip(zipPath: string, files: readonly string[], deflated: ReadonlyMap<string, DeflatedMember> = new Map()): Promise<void> {
  const fd = openSync(zipPath, 'w');
  let position = 0;
  const write = (buffer: Buffer, at?: number) => {
    writeSync(fd, buffer, 0, buffer.length, at ?? position);
    if (at === undefined) position += buffer.length;
  };
  const entries: Entry[] = [];
  try {
    for (const file of files) {
      const stat = statSync(file);
      const { time, day } = dosDateTime(stat.mtime);
      const name = Buffer.from(basename(file), 'utf8');
      const entry: Entry = { name, offset: position, crc: 0, compressed: 0, size: 0, time, day, mode: stat.mode & 0xffff };
      const header = Buffer.alloc(30);
      write(Buffer.concat([header, name])); // patched once the sizes are known
      const ready = deflated.get(file);
      if (ready && ready.size === stat.size) {
        for await (const chunk of createReadStream(ready.path)) write(chunk as Buffer);
        Object.assign(entry, { crc: ready.crc, size: ready.size, compressed: ready.compressed });
      } else {
        const deflate = new Deflate({ level: 1, raw: true });
        deflate.onData = (chunk: Uint8Array) => {
          write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
          entry.compressed += chunk.length;
        };
        for await (const chunk of createReadStream(file)) {
          const buffer = chunk as Buffer;
          entry.crc = crc32(entry.crc, buffer);
          entry.size += buffer.length;
          deflate.push(buffer, false);
        }
        deflate.push(new Uint8Array(0), true);
        if (deflate.err) throw new Error(`deflate failed for ${file}: ${deflate.msg}`);
      }
      header.writeUInt32LE(0x04034b50, 0);
      header.writeUInt16LE(20, 4);
      header.writeUInt16LE(0, 6);
      header.writeUInt16LE(8, 8);
      header.writeUInt16LE(entry.time, 10);
      header.writeUInt16LE(entry.day, 12);
      header.writeUInt32LE(entry.crc, 14);
      header.writeUInt32LE(entry.compressed, 18);
      header.writeUInt32LE(entry.size, 22);
      header.writeUInt16LE(name.length, 26);
      header.writeUInt16LE(0, 28);
      write(header, entry.offset);
      entries.push(entry);
    }
    const directoryStart = position;
    for (const e of entries) {
      const central = Buffer.alloc(46);
      central.writeUInt32LE(0x02014b50, 0);
      central.writeUInt16LE(0x0314, 4); // made by: unix, 2.0 (what Python writes)
      central.writeUInt16LE(20, 6);
      central.writeUInt16LE(0, 8);
      central.writeUInt16LE(8, 10);
      central.writeUInt16LE(e.time, 12);
      central.writeUInt16LE(e.day, 14);
      central.writeUInt32LE(e.crc, 16);
      central.writeUInt32LE(e.compressed, 20);
      central.writeUInt32LE(e.size, 24);
      central.writeUInt16LE(e.name.length, 28);
      central.writeUInt32LE((e.mode << 16) >>> 0, 38);
      central.writeUInt32LE(e.offset, 42);
      write(Buffer.concat([central, e.name]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(entries.length, 8);
    end.writeUInt16LE(entries.length, 10);
    end.writeUInt32LE(position - directoryStart, 12);
    end.writeUInt32LE(directoryStart, 16);
    write(end);
  } finally {
    closeSync(fd);
  }
}
