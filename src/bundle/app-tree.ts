/**
 * The harness as a built tree: every runtime TypeScript file compiled by esbuild to a `.js`
 * beside where its source was, the data files copied as they are, bin/cutover.mjs without tsx,
 * and the reimplemented services' esbuild bundles (src/platform/reimpl-build.ts) frozen in.
 *
 * File by file, not one bundle: modules find their data relative to their own location at
 * different depths (flags/routes.yaml, parity/fixtures, legacy/county_configs), and the proxy's
 * comparison and cluster workers are sibling modules started by path (docs/decisions/0026-offline-bundle.md).
 */
import { buildSync } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CutoverError } from '../errors.js';
import { ensureReimplBuild } from '../platform/reimpl-build.js';

/**
 * Top-level parts of the repository the harness does not run from. Everything else is shipped,
 * so a new top-level part (console/ was one) is in the bundle without a change here.
 */
export const NOT_RUNTIME_PARTS: ReadonlySet<string> = new Set(['tests', 'docs', 'deploy', '.ci', 'bin', 'reports', 'tsconfig.json', 'vitest.config.ts', 'package-lock.json', '.gitignore', '.npmrc']);

const BUILT_CLI = `#!/usr/bin/env node
// The \`cutover\` command of a built tree (cutover bundle): plain JavaScript, no TypeScript loader.
const { main } = await import('../src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
`;

/** The files of the runtime parts that git tracks or would track (not ignored: no .env secrets, no state). */
export function runtimeFiles(sourceRoot: string): string[] {
  const listing = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: sourceRoot, encoding: 'utf8' });
  if (listing.status !== 0) throw new CutoverError('CUTOVER_ERR_BUNDLE_BUILD_MISSING', `git ls-files in ${sourceRoot} failed (the bundle is built from a git checkout): ${listing.stderr.trim()}`);
  return [...new Set(listing.stdout.split('\0').filter((path) => path && !NOT_RUNTIME_PARTS.has(path.split('/')[0]!) && existsSync(join(sourceRoot, path))))].sort();
}

/** Writes the built tree of `sourceRoot` into `appDir`; returns how many modules were compiled and files copied. */
export function buildAppTree(sourceRoot: string, appDir: string): { compiled: number; copied: number; reimplBuild: string } {
  const files = runtimeFiles(sourceRoot);
  const sources = files.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'));
  const data = files.filter((path) => !path.endsWith('.ts'));
  try {
    buildSync({
      absWorkingDir: sourceRoot,
      entryPoints: sources,
      outbase: sourceRoot,
      outdir: appDir,
      bundle: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
    });
  } catch (error) {
    throw new CutoverError('CUTOVER_ERR_BUNDLE_BUILD_MISSING', `esbuild could not compile the harness: ${(error as Error).message.split('\n').slice(0, 6).join(' | ')}`);
  }
  for (const path of data) {
    mkdirSync(dirname(join(appDir, path)), { recursive: true });
    copyFileSync(join(sourceRoot, path), join(appDir, path));
  }
  mkdirSync(join(appDir, 'bin'), { recursive: true });
  writeFileSync(join(appDir, 'bin', 'cutover.mjs'), BUILT_CLI);
  chmodSync(join(appDir, 'bin', 'cutover.mjs'), 0o755);

  const reimplBuild = ensureReimplBuild();
  if (!reimplBuild) throw new CutoverError('CUTOVER_ERR_BUNDLE_BUILD_MISSING', 'the esbuild bundle of the reimplemented services could not be made (`npm run build` shows why)');
  const build = basename(reimplBuild).replace(/^reimpl-/, '');
  cpSync(reimplBuild, join(appDir, 'dist', basename(reimplBuild)), { recursive: true });
  // A built tree does not check its build against sources it has not got (ensureReimplBuild).
  writeFileSync(join(appDir, 'dist', 'reimpl-current.json'), JSON.stringify({ build, builtAt: Date.now(), inputs: [] }));
  return { compiled: sources.length, copied: data.length, reimplBuild: build };
}
