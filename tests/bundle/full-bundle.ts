/**
 * `npm run bundle-test`: builds a whole bundle with `cutover bundle` (several minutes: npm ci
 * --omit=dev, gdal-async's build against Debian's GDAL, apt-get download), then, from the
 * unpacked archive:
 * - `install.sh --check` verifies every file, and fails (exit 5) once a file is tampered with;
 * - `install.sh --dry-run` (apt-get -s with no mirror) accepts it on this machine;
 * - its Debian packages install on a minbase with no mirror (apt-get -s against the minbase's
 *   dpkg status, no package lists, no sources: only the archive's .deb files);
 * - inside a network namespace with no network (`unshare -n`, where a connection out fails):
 *   `bin/cutover help` runs, and the native modules load on the bundled node (gdal-async on
 *   Debian's GDAL, better-sqlite3), and `bin/cutover up` starts the whole platform (embedded
 *   PostgreSQL, legacy Python services, reimplementations, proxy) and stops it on Ctrl-C.
 * Not part of `npm test` for its time. Prints the archive's size and the time taken; exit 1 when
 * any check fails. Options: --keep (leave the archive and the unpacked tree in place).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../../src/bundle/bundle.js';
import { minbaseStatus } from '../../src/bundle/debian-packages.js';
import type { BundleManifest } from '../../src/bundle/manifest.js';
import { repoRoot } from '../../src/platform/paths.js';

const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'bundle-test-'));
// As root, embedded PostgreSQL runs as the postgres user, who must reach the unpacked tree.
chmodSync(work, 0o755);
const failures: string[] = [];

function expectThat(what: string, ok: boolean, detail: string): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok ? '' : `: ${detail}`}`);
  if (!ok) failures.push(what);
}

function run(command: string, args: string[], cwd?: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 64 * 1024 * 1024 });
}

const tail = (result: SpawnSyncReturns<string>): string => `exit ${result.status}: ${`${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-6).join(' | ')}`;

try {
  const archive = join(work, 'terrafusion-cutover.tar.gz');
  const summary = buildBundle({ out: archive, log: (line) => console.log(line) });
  console.log(`bundle: ${(summary.bytes / 1024 / 1024).toFixed(1)} MiB, ${summary.files} entries, ${summary.debianPackages} Debian packages, built in ${summary.seconds.toFixed(0)} s`);

  const unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  const untar = run('tar', ['-xzf', archive, '-C', unpacked]);
  const tops = readdirSync(unpacked);
  expectThat('the archive unpacks into one directory', untar.status === 0 && tops.length === 1, tail(untar));
  const root = join(unpacked, tops[0]!);
  const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as BundleManifest;
  expectThat(
    'the manifest names node, the harness, the npm and Debian packages',
    manifest.versions.node === process.version && Boolean(manifest.versions.npm['gdal-async']) && Object.keys(manifest.versions.debianPackages).length === manifest.debianInstallOrder.length,
    JSON.stringify({ node: manifest.versions.node, npm: Object.keys(manifest.versions.npm).length }),
  );
  const countyFiles = run('git', ['ls-files', 'legacy/county_configs'], repoRoot).stdout.split('\n').filter(Boolean);
  const shipped = new Set(manifest.files.map((entry) => entry.path));
  const unshipped = countyFiles.filter((path) => !shipped.has(`app/${path}`));
  expectThat(`the county configs are in the bundle (${countyFiles.length} files)`, countyFiles.length > 0 && unshipped.length === 0, `not shipped: ${unshipped.join(', ')}`);
  expectThat('no county .env secret is in the bundle', !manifest.files.some((entry) => /county_configs\/[^/]+\/\.env$/.test(entry.path)), 'a .env was shipped');

  const checked = run('sh', [join(root, 'install.sh'), '--check']);
  expectThat('install.sh --check verifies the unpacked bundle', checked.status === 0, tail(checked));

  const tampered = join(root, 'app', 'flags', 'routes.yaml');
  const original = readFileSync(tampered);
  appendFileSync(tampered, '# tampered\n');
  const refused = run('sh', [join(root, 'install.sh'), '--check']);
  expectThat(
    'install.sh --check fails on a tampered file, naming it',
    refused.status === 5 && refused.stderr.includes('CUTOVER_ERR_BUNDLE_CHECKSUM_MISMATCH') && refused.stderr.includes('app/flags/routes.yaml'),
    tail(refused),
  );
  writeFileSync(tampered, original);

  // On a minbase with no mirror at all: apt may use nothing but the installed minbase and the .deb files.
  const base = minbaseStatus(readFileSync('/var/lib/dpkg/status', 'utf8'));
  const simulation = join(work, 'minbase');
  mkdirSync(join(simulation, 'lists', 'partial'), { recursive: true });
  mkdirSync(join(simulation, 'sources.d'));
  writeFileSync(join(simulation, 'status'), base.status);
  writeFileSync(join(simulation, 'extended_states'), '');
  const debs = readFileSync(join(root, 'debs', 'install-order.txt'), 'utf8').split('\n').filter(Boolean).map((file) => join(root, 'debs', file));
  const simulated = run('apt-get', [
    '-s', '-o', `Dir::State::status=${join(simulation, 'status')}`, '-o', `Dir::State::extended_states=${join(simulation, 'extended_states')}`,
    '-o', `Dir::State::Lists=${join(simulation, 'lists')}`, '-o', 'Dir::Etc::SourceList=/dev/null', '-o', `Dir::Etc::SourceParts=${join(simulation, 'sources.d')}`,
    '-o', `Dir::Cache=${join(simulation, 'cache')}`, '-o', 'Debug::NoLocking=1', 'install', '--no-install-recommends', ...debs,
  ]);
  const installs = (simulated.stdout.match(/^Inst /gm) ?? []).length;
  expectThat(`the ${debs.length} Debian packages install on a minbase of ${base.packages.length} with no mirror`, simulated.status === 0 && installs === debs.length, `${installs} Inst lines; ${tail(simulated)}`);

  // On this machine (which has most of them, some older): what install.sh would do, changing nothing.
  const dryRun = run('sh', [join(root, 'install.sh'), '--dry-run']);
  expectThat('install.sh --dry-run: apt, with no mirror, accepts what the bundle would install here', dryRun.status === 0 && /Debian packages/.test(dryRun.stdout), tail(dryRun));

  // Each in a network namespace of its own, which has no network: first the proof of that.
  const node = join(root, 'node', 'bin', 'node');
  const connect = run('unshare', ['-n', node, '-e', "require('net').connect(80, '151.101.2.132').on('connect', () => process.exit(9)).on('error', (e) => { console.log(e.code); process.exit(0); })"]);
  expectThat('a connection out fails inside unshare -n (no network)', connect.status === 0, tail(connect));
  const help = run('unshare', ['-n', join(root, 'bin', 'cutover'), 'help']);
  expectThat('bin/cutover help runs from the unpacked tree inside unshare -n', help.status === 0 && help.stdout.includes('usage: cutover <command>') && help.stdout.includes('bundle'), tail(help));
  const native = run('unshare', ['-n', node, '-e', "const gdal = require('gdal-async'); const Database = require('better-sqlite3'); const db = new Database(':memory:'); console.log('native: gdal ' + gdal.version + (gdal.bundled ? ' bundled' : ' shared') + ', sqlite ' + db.prepare('select sqlite_version() v').get().v)"], join(root, 'app'));
  expectThat(`gdal-async (Debian's GDAL, shared) and better-sqlite3 load there on the bundled node (${native.stdout.trim()})`, /native: gdal \S+ shared, sqlite \S+/.test(native.stdout), tail(native));

  // The whole platform from the bundle, offline: `bin/cutover up` in a namespace of its own,
  // whose loopback (brought up) no other process shares, so the default ports collide with
  // nothing; the gateway answers through the proxy door, and Ctrl-C stops everything.
  const upScript = [
    'ip link set lo up',
    `cd "${root}/app"`,
    // The log goes where the harness keeps its own state, which install.sh --check leaves alone.
    'mkdir -p .cutover',
    `"${root}/bin/cutover" up > .cutover/up.log 2>&1 &`,
    'pid=$!',
    'deadline=$(( $(date +%s) + 600 ))',
    'while [ "$(date +%s)" -lt "$deadline" ] && kill -0 $pid 2>/dev/null && ! grep -q "TerraFusion is up" .cutover/up.log; do sleep 2; done',
    `"${root}/node/bin/node" -e "fetch('http://127.0.0.1:8000/health').then(async (r) => console.log('gateway door', r.status, (await r.json()).status), (e) => console.log('gateway door error', e.message))"`,
    'kill -INT $pid 2>/dev/null; wait $pid; echo "up exit $?"',
    // A start that failed half-way may leave its embedded PostgreSQL behind: stop it by its pid.
    '[ -f .cutover/pg/postmaster.pid ] && kill "$(head -n 1 .cutover/pg/postmaster.pid)" 2>/dev/null; tail -n 5 .cutover/up.log',
  ].join('\n');
  const upStarted = Date.now();
  const up = run('unshare', ['-n', 'sh', '-c', upScript]);
  expectThat(
    `bin/cutover up runs the whole platform from the unpacked tree inside unshare -n (${((Date.now() - upStarted) / 1000).toFixed(0)} s), the gateway healthy through the proxy door, Ctrl-C exits 0`,
    /^gateway door 200 healthy$/m.test(up.stdout) && up.stdout.includes('up exit 0'),
    tail(up),
  );

  const afterUp = run('sh', [join(root, 'install.sh'), '--check']);
  expectThat('install.sh --check still verifies the tree after the harness ran in it (its state is not the bundle\'s)', afterUp.status === 0, tail(afterUp));

  console.log(`\narchive ${(summary.bytes / 1024 / 1024).toFixed(1)} MiB (${summary.bytes} bytes), built in ${summary.seconds.toFixed(1)} s${keep ? `; kept in ${work}` : ''}`);
} catch (error) {
  failures.push(`bundle build: ${(error as Error).message}`);
  console.error(error);
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
}
if (failures.length) {
  console.error(`\n${failures.length} check(s) failed: ${failures.join('; ')}`);
  process.exitCode = 1;
}
