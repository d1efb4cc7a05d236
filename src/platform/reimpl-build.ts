/**
 * The reimplemented services as plain JavaScript: esbuild bundles each `reimpl/<x>/main.ts`
 * (and the GIS export worker) into `dist/reimpl-<build>/`, so they run on bare `node` without
 * tsx's loader and its esbuild helper process (~60 MiB of the service's RSS,
 * docs/decisions/0010-gis-export-memory-and-formats.md). The build is made on demand and
 * remade whenever a source it was built from is newer, so a fresh clone (or a tree others
 * are editing) never runs stale code and needs no extra step. `npm run build` does it ahead.
 */
import { buildSync, type Metafile } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CutoverError } from '../errors.js';
import { repoRoot, runsFromSource } from './paths.js';

/** Bundle name (dist/reimpl/<build>/<name>.mjs) -> its TypeScript entry point. */
export const REIMPL_ENTRIES = {
  sync: 'reimpl/sync/main.ts',
  'gis-export': 'reimpl/gis-export/main.ts',
  'gis-export-worker': 'reimpl/gis-export/export/worker-main.ts',
  narrator: 'reimpl/narrator/main.ts',
  gateway: 'reimpl/gateway/main.ts',
} as const;
export type ReimplEntry = keyof typeof REIMPL_ENTRIES;

// dist/reimpl-<build>/x.mjs is at the same depth below the repository as reimpl/<x>/main.ts,
// so the services' paths relative to import.meta.url (../../legacy/county_configs) resolve
// the same from a bundle.
const distRoot = join(repoRoot, 'dist');
const PREFIX = 'reimpl-';
const currentFile = join(distRoot, 'reimpl-current.json');
const KEEP_BUILDS = 4;

interface Current {
  build: string;
  builtAt: number;
  inputs: string[];
}

function readCurrent(): Current | undefined {
  try {
    return JSON.parse(readFileSync(currentFile, 'utf8')) as Current;
  } catch {
    return undefined;
  }
}

function fresh(current: Current): boolean {
  if (!existsSync(join(distRoot, PREFIX + current.build))) return false;
  try {
    return current.inputs.every((input) => statSync(join(repoRoot, input)).mtimeMs <= current.builtAt);
  } catch {
    return false; // an input was deleted or renamed
  }
}

function writeAtomically(path: string, contents: Uint8Array | string): void {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

// Builds stay until several newer ones exist: a running service loads its lazy chunks
// (GDAL shaping) from its own build directory long after it started.
function prune(keep: string): void {
  const builds = readdirSync(distRoot, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name.startsWith(PREFIX) && !e.name.endsWith('.tmp') && e.name !== PREFIX + keep)
    .map((e) => ({ name: e.name, at: statSync(join(distRoot, e.name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const old of builds.slice(KEEP_BUILDS - 1)) rmSync(join(distRoot, old.name), { recursive: true, force: true });
}

function build(): Current {
  const startedAt = Date.now();
  const result = buildSync({
    absWorkingDir: repoRoot,
    entryPoints: Object.entries(REIMPL_ENTRIES).map(([out, input]) => ({ out, in: input })),
    bundle: true,
    // Dynamic imports (GDAL shaping) become chunks loaded on first need, not at start.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    outdir: join(distRoot, 'out'),
    // Chunks beside the entries: bundled code finds the worker bundle next to its import.meta.url.
    chunkNames: '[name]-[hash]',
    sourcemap: 'inline',
    write: false,
    metafile: true,
    logLevel: 'silent',
    define: { __GIS_EXPORT_WORKER__: JSON.stringify('gis-export-worker.mjs') },
  });
  const hash = createHash('sha256');
  for (const file of result.outputFiles) hash.update(file.path).update(file.contents);
  const id = hash.digest('hex').slice(0, 16);
  const directory = join(distRoot, PREFIX + id);
  if (!existsSync(directory)) {
    const staging = `${directory}.${process.pid}.tmp`;
    for (const file of result.outputFiles) {
      const target = join(staging, relative(join(distRoot, 'out'), file.path));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.contents);
    }
    try {
      renameSync(staging, directory);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process built the same bytes first
    }
  }
  const inputs = Object.keys((result.metafile as Metafile).inputs);
  const current: Current = { build: id, builtAt: startedAt, inputs };
  writeAtomically(currentFile, JSON.stringify(current));
  prune(id);
  return current;
}

/**
 * The directory holding up-to-date bundles of every reimplemented service (built now if
 * missing or stale), or undefined when they cannot be built: callers fall back to tsx.
 */
export function ensureReimplBuild(log: (line: string) => void = () => {}): string | undefined {
  if (!runsFromSource) return shippedReimplBuild();
  if (process.env.CUTOVER_REIMPL_TSX === '1') return undefined;
  try {
    mkdirSync(distRoot, { recursive: true });
    let current = readCurrent();
    if (!current || !fresh(current)) current = build();
    return join(distRoot, PREFIX + current.build);
  } catch (error) {
    log(`reimpl build failed, running the services through tsx: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    return undefined;
  }
}

/**
 * A built tree (cutover bundle) has no sources to bundle or to check the build against: the
 * build it was shipped with is the one, and its absence is an error, not a reason to fall back.
 */
function shippedReimplBuild(): string {
  const current = readCurrent();
  const directory = current && join(distRoot, PREFIX + current.build);
  if (!directory || !existsSync(directory)) {
    throw new CutoverError('CUTOVER_ERR_BUNDLE_BUILD_MISSING', `this built tree has no bundle of the reimplemented services (${relative(repoRoot, currentFile)} and the build it names)`);
  }
  return directory;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const directory = ensureReimplBuild((line) => console.error(line));
  if (!directory) process.exit(1);
  console.log(relative(repoRoot, directory));
}
