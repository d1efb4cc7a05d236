/**
 * The Debian packages a bundle ships: scripts/setup.sh's DEBIAN_RUNTIME_PACKAGES (the one list),
 * the packages of the shared libraries its native parts link (node, gdal-async, better-sqlite3,
 * embedded PostgreSQL), and every dependency of those that a bare Debian bookworm lacks.
 *
 * "Bare" is what `debootstrap --variant=minbase` installs: the packages of Priority required,
 * apt, and their Depends/Pre-Depends. It is taken from this machine's dpkg status (same release),
 * written as a dpkg status file of its own, and apt's resolver runs against it (`apt-get -s` with
 * that status): apt chooses among alternatives and virtual packages as it would on the target,
 * and its install order is kept for the manifest.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CutoverError } from '../errors.js';

export interface DebianPackage {
  name: string;
  version: string;
  architecture: string;
}

interface StatusStanza {
  fields: Map<string, string>;
  text: string;
}

/** The stanzas of a dpkg status file, fields keyed by name (continuation lines joined). */
export function parseDpkgStatus(text: string): StatusStanza[] {
  return text
    .split(/\n\s*\n/)
    .filter((stanza) => stanza.trim() !== '')
    .map((stanza) => {
      const fields = new Map<string, string>();
      let last: string | undefined;
      for (const line of stanza.split('\n')) {
        if (/^\s/.test(line) && last) fields.set(last, `${fields.get(last)}\n${line}`);
        else {
          const match = /^([\w.-]+):\s?(.*)$/.exec(line);
          if (match) fields.set((last = match[1]!), match[2]!);
        }
      }
      return { fields, text: stanza.trim() };
    });
}

function dependencyNames(field: string | undefined): string[][] {
  if (!field) return [];
  return field
    .split(',')
    .map((clause) => clause.trim())
    .filter(Boolean)
    .map((clause) => clause.split('|').map((alternative) => alternative.trim().split(/[\s(]/)[0]!.split(':')[0]!));
}

/**
 * The minbase of this machine's release: installed packages of Priority required, apt, and the
 * dependencies among installed packages that close them, as dpkg status text.
 */
export function minbaseStatus(dpkgStatus: string): { packages: string[]; status: string } {
  const installed = new Map<string, StatusStanza>();
  const providers = new Map<string, string>();
  for (const stanza of parseDpkgStatus(dpkgStatus)) {
    if (!stanza.fields.get('Status')?.includes('install ok installed')) continue;
    const name = stanza.fields.get('Package')!;
    installed.set(name, stanza);
    for (const [provided] of dependencyNames(stanza.fields.get('Provides'))) {
      if (provided && !providers.has(provided)) providers.set(provided, name);
    }
  }
  const resolve = (name: string): string | undefined => (installed.has(name) ? name : providers.get(name));
  const base = new Set<string>();
  const pending = [...installed.values()].filter((stanza) => stanza.fields.get('Priority') === 'required').map((stanza) => stanza.fields.get('Package')!);
  pending.push('apt');
  while (pending.length) {
    const name = pending.pop()!;
    if (base.has(name) || !installed.has(name)) continue;
    base.add(name);
    const fields = installed.get(name)!.fields;
    for (const clause of [...dependencyNames(fields.get('Pre-Depends')), ...dependencyNames(fields.get('Depends'))]) {
      const chosen = clause.map(resolve).find((candidate) => candidate !== undefined);
      if (chosen) pending.push(chosen);
    }
  }
  const packages = [...base].sort();
  return { packages, status: `${packages.map((name) => installed.get(name)!.text).join('\n\n')}\n` };
}

/** The package names of the runtime list in scripts/setup.sh. */
export function runtimePackagesOf(setupScript: string): string[] {
  const match = /^DEBIAN_RUNTIME_PACKAGES="([^"]*)"/m.exec(setupScript);
  if (!match) throw new CutoverError('CUTOVER_ERR_BUNDLE_PACKAGES_UNRESOLVED', 'scripts/setup.sh declares no DEBIAN_RUNTIME_PACKAGES="..." line');
  return match[1]!.split(/\s+/).filter(Boolean);
}

/** The Debian packages owning the shared libraries that these ELF files load (ldd, then dpkg -S). */
export function packagesOfLinkedLibraries(elfFiles: readonly string[]): string[] {
  const libraries = new Set<string>();
  for (const file of elfFiles) {
    const ldd = spawnSync('ldd', [file], { encoding: 'utf8' });
    for (const match of ldd.stdout.matchAll(/=>\s+(\/\S+)/g)) libraries.add(match[1]!);
  }
  if (libraries.size === 0) return [];
  // dpkg -S knows /lib/x86_64-linux-gnu/x, bookworm's merged /usr makes ldd print either.
  const owners = spawnSync('dpkg', ['-S', ...[...libraries].flatMap((path) => [path, path.replace(/^\/usr\/lib\//, '/lib/')])], { encoding: 'utf8' });
  const packages = new Set<string>();
  for (const line of owners.stdout.split('\n')) {
    const match = /^([^:,\s]+)(?::[\w-]+)?(?:, [^:]+)*: \//.exec(line);
    if (match) packages.add(match[1]!);
  }
  return [...packages].sort();
}

/**
 * What apt would install on the minbase to get `wanted`, in its install order
 * (`apt-get -s` against the minbase status written in `workDir`).
 */
export function resolveClosure(wanted: readonly string[], minbase: string, workDir: string): DebianPackage[] {
  const statusFile = join(workDir, 'minbase-status');
  const extendedStates = join(workDir, 'minbase-extended-states');
  writeFileSync(statusFile, minbase);
  writeFileSync(extendedStates, '');
  const simulation = spawnSync(
    'apt-get',
    ['-s', '-o', `Dir::State::status=${statusFile}`, '-o', `Dir::State::extended_states=${extendedStates}`, '-o', 'Debug::NoLocking=1', 'install', '--no-install-recommends', ...wanted],
    { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  );
  if (simulation.status !== 0) {
    throw new CutoverError('CUTOVER_ERR_BUNDLE_PACKAGES_UNRESOLVED', `apt-get -s install ${wanted.join(' ')} against a minbase failed: ${(simulation.stderr || simulation.stdout).trim().split('\n').slice(-8).join(' | ')}`);
  }
  return parseSimulatedInstalls(simulation.stdout);
}

/** `Inst name (version release [arch])` lines of an apt-get -s run. */
export function parseSimulatedInstalls(output: string): DebianPackage[] {
  const packages: DebianPackage[] = [];
  for (const match of output.matchAll(/^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) .*\[(\w+)\]\)/gm)) {
    packages.push({ name: match[1]!, version: match[2]!, architecture: match[3]! });
  }
  return packages;
}

/** `apt-get download` of exactly these versions into `directory`; returns the .deb file names in the packages' order. */
export function downloadPackages(packages: readonly DebianPackage[], directory: string): string[] {
  const download = spawnSync('apt-get', ['download', ...packages.map((p) => `${p.name}:${p.architecture}=${p.version}`)], {
    cwd: directory,
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
  if (download.status !== 0) {
    throw new CutoverError('CUTOVER_ERR_BUNDLE_DOWNLOAD_FAILED', `apt-get download of ${packages.length} packages failed: ${(download.stderr || download.stdout).trim().split('\n').slice(-6).join(' | ')}`);
  }
  // apt-get download names files name_version_arch.deb with the epoch's ':' as %3a.
  return packages.map((p) => `${p.name}_${p.version.replace(/:/g, '%3a')}_${p.architecture}.deb`);
}

/** The whole Debian side of a bundle: what to ship and the .deb files, downloaded into `directory`. */
export function collectDebianPackages(options: { setupScript: string; elfFiles: readonly string[]; directory: string; workDir: string }): {
  requested: string[];
  minbase: string[];
  packages: (DebianPackage & { file: string })[];
} {
  const requested = [...new Set([...runtimePackagesOf(readFileSync(options.setupScript, 'utf8')), ...packagesOfLinkedLibraries(options.elfFiles)])].sort();
  const base = minbaseStatus(readFileSync('/var/lib/dpkg/status', 'utf8'));
  const packages = resolveClosure(requested, base.status, options.workDir);
  const files = downloadPackages(packages, options.directory);
  return { requested, minbase: base.packages, packages: packages.map((p, index) => ({ ...p, file: files[index]! })) };
}
