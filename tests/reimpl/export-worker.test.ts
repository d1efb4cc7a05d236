// The GIS export's worker pool against real worker processes (GDAL loaded): kept between jobs,
// replaced over its RSS ceiling and when it dies, each replacement forked while the slot is idle.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ExportWorker, type WorkerLifetime } from '../../reimpl/gis-export/export-worker.js';
import { alive, eventually } from '../proxy/harness.js';

const square = (x0: number, y0: number, x1: number, y1: number) => [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]];
const areaOfInterest = { type: 'Polygon', coordinates: square(0, 0, 1, 1) };
/** A parcel across the area's east and north edges: what the worker shapes for an export written in the service. */
const crossing = { text: JSON.stringify({ type: 'Polygon', coordinates: square(0.5, 0.5, 1.5, 1.5) }), dimension: 2, bbox: [0.5, 0.5, 1.5, 1.5] };

let worker: ExportWorker | undefined;
afterEach(() => worker?.stop());

/** One job on the slot: the crossing parcel shaped by the worker; whether it came back clipped to the area, and the worker's pid. */
async function shapeJob(slot: ExportWorker): Promise<{ clipped: boolean; pid: number }> {
  return slot.job(async () => {
    const [shaped] = await slot.shaping(areaOfInterest, 0).shapeMany([crossing]);
    const points = (shaped as { coordinates: number[][][] }).coordinates.flat();
    return { clipped: points.length >= 4 && points.every(([x, y]) => x! >= 0.5 && x! <= 1 && y! >= 0.5 && y! <= 1), pid: slot.readyPid! };
  });
}

function start(lifetime: Partial<WorkerLifetime> = {}): ExportWorker {
  worker = new ExportWorker({ idleLifetimeMs: 600_000, rssCeilingMb: 0, ...lifetime });
  return worker;
}

describe('an export worker', () => {
  it('is kept between jobs: the next job runs in the same process', async () => {
    const slot = start();
    const first = await shapeJob(slot);
    expect(first).toMatchObject({ clipped: true, pid: expect.any(Number) });
    expect(await shapeJob(slot)).toEqual({ clipped: true, pid: first.pid });
    expect(slot.readyPid).toBe(first.pid);
  });

  it('above its RSS ceiling after a job, is replaced by a process forked and loaded before the next job', async () => {
    const slot = start({ rssCeilingMb: 1 });
    const { pid: first } = await shapeJob(slot);
    // The replacement comes up with no job asked of it, and the process it replaces exits.
    const replacement = await eventually(() => (slot.readyPid !== undefined && slot.readyPid !== first ? slot.readyPid : undefined));
    await eventually(() => (!alive(first) ? true : undefined));
    expect(await shapeJob(slot)).toEqual({ clipped: true, pid: replacement });
  });

  it('that dies fails the job it held, and is replaced before the next job, as is one that dies between jobs', async () => {
    // A database that accepts and never answers keeps the export in the worker until it is killed.
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const slot = start();
      const { pid: first } = await shapeJob(slot);
      const held = slot.job(() =>
        slot.run({
          jobId: 'held', countyId: 'test_county', format: 'GeoJSON', areaOfInterest, layers: ['parcels'], parameters: {},
          databaseUrl: `postgres://nobody@127.0.0.1:${port}/none`, exportDir: '/tmp/cutover-export-worker-test',
        }),
      );
      await eventually(() => (sockets.length > 0 ? true : undefined));
      process.kill(first, 'SIGKILL');
      expect(await held).toMatchObject({ ok: false, errorType: 'CUTOVER_ERR_EXPORT_WORKER_DIED' });
      const replacement = await eventually(() => (slot.readyPid !== undefined && slot.readyPid !== first ? slot.readyPid : undefined));
      expect(await shapeJob(slot)).toEqual({ clipped: true, pid: replacement });
      // One that dies between jobs is replaced as well.
      process.kill(replacement, 'SIGKILL');
      const next = await eventually(() => (slot.readyPid !== undefined && slot.readyPid !== replacement ? slot.readyPid : undefined));
      expect(await shapeJob(slot)).toEqual({ clipped: true, pid: next });
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('idle for its lifetime exits and is not replaced; the next job forks a new one', async () => {
    const slot = start({ idleLifetimeMs: 1 });
    const { pid: first } = await shapeJob(slot);
    await eventually(() => (slot.readyPid === undefined && !alive(first) ? true : undefined));
    const next = await shapeJob(slot);
    expect(next.clipped).toBe(true);
    expect(next.pid).not.toBe(first);
  });
});
