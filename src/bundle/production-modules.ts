/**
 * The bundle's production node_modules: `npm ci --omit=dev` from the lockfile in a directory of
 * its own (never the checkout's node_modules, which may be shared by several worktrees), with
 * the native modules built there: better-sqlite3 by its install script (package.json
 * allowScripts), gdal-async against Debian's GDAL by scripts/gdal-binding.sh, which also
 * refuses a binding of the bundled GDAL. Build leftovers (object files, vendored sources) are
 * dropped: only the loaded binaries run.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CutoverError } from '../errors.js';

/** What of packages only their build needed (node-gyp output, vendored C sources, static libraries). */
const BUILD_LEFTOVERS = ['gdal-async/build', 'gdal-async/src', 'better-sqlite3/deps', 'better-sqlite3/src', 'better-sqlite3/build/Release/obj', 'better-sqlite3/build/Release/obj.target', 'better-sqlite3/build/Release/.deps', 'better-sqlite3/build/Release/sqlite3.a', 'better-sqlite3/build/Release/test_extension.node', 'better-sqlite3/build/deps'];
/**
 * gdal-async's vendored GDAL and PROJ (200 MiB of sources) go, but not these data folders: its
 * lib/gdal.js refuses to load without them even when it links Debian's GDAL.
 */
export const GDAL_DEPS_KEPT = ['libgdal/gdal/data', 'libproj/proj/data', 'libgdal/gdal/frmts/grib/data'];

/** Removes everything under `directory` except the `kept` relative paths (and the folders leading to them). */
export function removeAllBut(directory: string, kept: readonly string[], prefix = ''): void {
  for (const entry of readdirSync(directory)) {
    const path = `${prefix}${entry}`;
    if (kept.includes(path)) continue;
    if (kept.some((keep) => keep.startsWith(`${path}/`))) removeAllBut(join(directory, entry), kept, `${path}/`);
    else rmSync(join(directory, entry), { recursive: true, force: true });
  }
}

function run(command: string, args: string[], cwd: string, what: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-12).join(' | ');
    throw new CutoverError('CUTOVER_ERR_BUNDLE_STAGING_FAILED', `${what} failed (exit ${result.status ?? result.signal}): ${output}`);
  }
}

/** Installs the production dependencies of `sourceRoot`'s lockfile into `stagingDir/node_modules`. */
export function stageProductionModules(sourceRoot: string, stagingDir: string, log: (line: string) => void): string {
  mkdirSync(join(stagingDir, 'scripts'), { recursive: true });
  for (const file of ['package.json', 'package-lock.json', '.npmrc']) {
    if (existsSync(join(sourceRoot, file))) copyFileSync(join(sourceRoot, file), join(stagingDir, file));
  }
  copyFileSync(join(sourceRoot, 'scripts', 'gdal-binding.sh'), join(stagingDir, 'scripts', 'gdal-binding.sh'));
  log('bundle: npm ci --omit=dev in a staging directory (builds better-sqlite3)');
  run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], stagingDir, 'npm ci --omit=dev');
  log("bundle: building gdal-async against Debian's GDAL (scripts/gdal-binding.sh)");
  run('sh', ['scripts/gdal-binding.sh'], stagingDir, 'scripts/gdal-binding.sh');
  const modules = join(stagingDir, 'node_modules');
  if (!existsSync(join(modules, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))) {
    throw new CutoverError('CUTOVER_ERR_BUNDLE_STAGING_FAILED', 'npm ci --omit=dev left better-sqlite3 without its native build (build/Release/better_sqlite3.node)');
  }
  for (const leftover of BUILD_LEFTOVERS) rmSync(join(modules, leftover), { recursive: true, force: true });
  if (existsSync(join(modules, 'gdal-async', 'deps'))) removeAllBut(join(modules, 'gdal-async', 'deps'), GDAL_DEPS_KEPT);
  return modules;
}

/** Name -> version of every installed package (scoped ones included, nested copies not). */
export function installedPackageVersions(modules: string): Record<string, string> {
  const versions: Record<string, string> = {};
  const read = (directory: string, name: string): void => {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { version?: string };
      if (manifest.version) versions[name] = manifest.version;
    } catch {
      // a directory without a package.json (.bin, .cache) is no package
    }
  };
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) for (const scoped of readdirSync(join(modules, entry))) read(join(modules, entry, scoped), `${entry}/${scoped}`);
    else read(join(modules, entry), entry);
  }
  return Object.fromEntries(Object.entries(versions).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function isElf(path: string): boolean {
  const header = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    return readSync(fd, header, 0, 4, 0) === 4 && header.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

/** The ELF files (native modules, shared libraries, executables) under `directory`. */
export function elfFilesUnder(directory: string): string[] {
  const found: string[] = [];
  const walk = (current: string): void => {
    for (const dirent of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, dirent.name);
      if (dirent.isDirectory()) walk(path);
      else if (dirent.isFile() && (dirent.name.endsWith('.node') || /\.so(\.|$)/.test(dirent.name) || (statSync(path).mode & 0o111) !== 0) && isElf(path)) found.push(path);
    }
  };
  walk(directory);
  return found;
}
