import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { MemberDeflation } from '../../reimpl/gis-export/export/member-deflation.js';
import { writeZip } from '../../reimpl/gis-export/export/zip.js';

/** A .dbf-like file: a header, then space-padded records, as the Shapefile writer makes them. */
function dbfLike(records: number): Buffer {
  const parts = [Buffer.from('\x03header')];
  for (let i = 0; i < records; i++) parts.push(Buffer.from(` parcel-${i}`.padEnd(80, ' ') + String(i * 1.25).padStart(24, ' ')));
  return Buffer.concat(parts);
}

let directory: string;
afterEach(() => rmSync(directory, { recursive: true, force: true }));

describe('a zip member deflated beside the export', () => {
  it('is the same zip, byte for byte, as deflating the finished file, however the bytes were pushed', async () => {
    directory = mkdtempSync(join(tmpdir(), 'cutover-member-'));
    const file = join(directory, 'parcels.dbf');
    const bytes = dbfLike(40_000);
    writeFileSync(file, bytes);
    const deflation = MemberDeflation.start(join(directory, 'parcels.dbf.deflated'))!;
    expect(deflation).toBeDefined();
    // Pieces of uneven sizes, more than the 2 MiB the worker may lag behind (IN_FLIGHT_LIMIT).
    for (let at = 0, size = 7; at < bytes.length; at += size, size = (size * 7) % 300_001) await deflation.push(bytes.subarray(at, at + size));
    const member = await deflation.finish();
    expect(member).toMatchObject({ size: bytes.length });

    await writeZip(join(directory, 'ahead.zip'), [file], new Map([[file, member!]]));
    await writeZip(join(directory, 'after.zip'), [file]);
    const ahead = readFileSync(join(directory, 'ahead.zip'));
    expect(ahead.equals(readFileSync(join(directory, 'after.zip')))).toBe(true);
    expect(inflateRawSync(ahead.subarray(30 + 'parcels.dbf'.length, 30 + 'parcels.dbf'.length + member!.compressed)).equals(bytes)).toBe(true);
  });

  it('is not used for a file whose size is not what was deflated', async () => {
    directory = mkdtempSync(join(tmpdir(), 'cutover-member-'));
    const file = join(directory, 'parcels.dbf');
    writeFileSync(file, dbfLike(100));
    const deflation = MemberDeflation.start(join(directory, 'parcels.dbf.deflated'))!;
    await deflation.push(dbfLike(99));
    const member = await deflation.finish();
    await writeZip(join(directory, 'ahead.zip'), [file], new Map([[file, member!]]));
    await writeZip(join(directory, 'after.zip'), [file]);
    expect(readFileSync(join(directory, 'ahead.zip')).equals(readFileSync(join(directory, 'after.zip')))).toBe(true);
  });

  it('runs on a thread kept from the previous member, and a member whose thread failed is deflated from disk, the next on a new thread', async () => {
    directory = mkdtempSync(join(tmpdir(), 'cutover-member-'));
    const file = join(directory, 'parcels.dbf');
    const bytes = dbfLike(5_000);
    writeFileSync(file, bytes);
    const deflateAhead = async (into: string) => {
      const deflation = MemberDeflation.start(into)!;
      await deflation.push(bytes);
      return { thread: deflation.threadId, member: await deflation.finish() };
    };
    const first = await deflateAhead(join(directory, 'first.deflated'));
    const second = await deflateAhead(join(directory, 'second.deflated'));
    expect(second.thread).toBe(first.thread);
    // The thread cannot open its output (no such folder): it fails, and the zip is deflated from the file as before.
    const failed = await deflateAhead(join(directory, 'missing', 'third.deflated'));
    expect(failed.member).toBeUndefined();
    const fourth = await deflateAhead(join(directory, 'fourth.deflated'));
    expect(fourth.thread).not.toBe(failed.thread);
    await writeZip(join(directory, 'after.zip'), [file]);
    for (const [name, member] of [['second', second.member], ['failed', failed.member], ['fourth', fourth.member]] as const) {
      await writeZip(join(directory, `${name}.zip`), [file], member ? new Map([[file, member]]) : new Map());
      expect(readFileSync(join(directory, `${name}.zip`)).equals(readFileSync(join(directory, 'after.zip')))).toBe(true);
    }
  });
});
