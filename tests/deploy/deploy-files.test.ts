/**
 * deploy/: the image, the compose file (two `cutover proxy` behind haproxy with PostgreSQL) and
 * the Kubernetes manifests, each checked by the tool that will read it where this machine has
 * one (docker-compose config, haproxy -c, docker build) and the manifests against the
 * Kubernetes API schema (tests/deploy/kubernetes-schema.ts: the subset they use).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadRouteCatalogue } from '../../flags/route-catalogue.js';
import { upstreamsInUse, upstreamVariable } from '../../proxy/serving/upstream-address.js';
import { loadConfig } from '../../src/config/load.js';
import { repoRoot } from '../../src/platform/paths.js';
import { composeCommand } from '../platform/compose-command.js';
import { haproxyBinary } from '../platform/haproxy.js';
import { manifestSchemas } from './kubernetes-schema.js';

const deploy = join(repoRoot, 'deploy');
const kubernetes = join(deploy, 'kubernetes');

/** The upstream variables a TerraFusion deployment must give: every serving-side upstream of flags/routes.yaml. */
function servingUpstreamVariables(): string[] {
  const catalogue = loadRouteCatalogue();
  const config = loadConfig({ env: {}, file: undefined });
  return upstreamsInUse(config, catalogue, catalogue.services.map((service) => service.name))
    .filter((address) => address.side === 'legacy' || address.side === 'reimpl')
    .map((address) => upstreamVariable(address.side, address.name));
}

describe('deploy/compose.yml', () => {
  it('is accepted by `compose config`: PostgreSQL, two cutover proxy instances built from deploy/Dockerfile, haproxy in front', () => {
    const [command, ...args] = composeCommand();
    const output = execFileSync(command!, [...args, '-f', 'deploy/compose.yml', 'config'], { cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    const resolved = parse(output) as { services: Record<string, { build?: { dockerfile?: string }; command?: string[]; environment?: Record<string, string> }> };
    expect(Object.keys(resolved.services).sort()).toEqual(['haproxy', 'postgres', 'proxy-a', 'proxy-b']);
    for (const name of ['proxy-a', 'proxy-b']) {
      const proxy = resolved.services[name]!;
      expect(proxy.build?.dockerfile).toBe('deploy/Dockerfile');
      expect(proxy.command).toEqual(['proxy', '--log-format', 'json']);
      expect(proxy.environment?.DATABASE_URL).toMatch(/^postgresql:\/\/cutover:cutover@postgres:5432\//);
      expect(Object.keys(proxy.environment ?? {})).toEqual(expect.arrayContaining(servingUpstreamVariables()));
      // Every upstream URL the file gives is one the config accepts.
      expect(() => loadConfig({ env: proxy.environment ?? {}, file: undefined })).not.toThrow();
    }
  });

  it('has a haproxy configuration haproxy accepts, checking each instance\'s readiness on its admin port', () => {
    expect(haproxyBinary, 'haproxy is installed by scripts/setup.sh').toBeDefined();
    const check = spawnSync(haproxyBinary!, ['-c', '-f', join(deploy, 'haproxy.cfg')], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    const text = readFileSync(join(deploy, 'haproxy.cfg'), 'utf8');
    expect(text.match(/option httpchk GET \/readyz/g)).toHaveLength(4);
    expect(text).toMatch(/retry-on conn-failure empty-response/);
  });
});

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: any;
}

function manifests(): Array<{ file: string; manifest: Manifest }> {
  const kustomization = parse(readFileSync(join(kubernetes, 'kustomization.yaml'), 'utf8')) as { resources: string[]; configMapGenerator: Array<{ name: string; files: string[] }> };
  const found = kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(kubernetes, file), 'utf8')).map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map(String).join('; ')}`);
      return { file, manifest: document.toJSON() as Manifest };
    }),
  );
  // What kustomize's configMapGenerator makes of the catalogue beside it (here TerraFusion's own).
  for (const generator of kustomization.configMapGenerator) {
    const data = Object.fromEntries(generator.files.map((file) => [file, readFileSync(join(repoRoot, 'flags', file), 'utf8')]));
    found.push({ file: `configMapGenerator ${generator.name}`, manifest: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data } });
  }
  return found;
}

describe('deploy/kubernetes/', () => {
  const all = manifests();
  const byKind = (kind: string) => all.filter((entry) => entry.manifest.kind === kind).map((entry) => entry.manifest);

  it('holds manifests that all parse and validate against the Kubernetes API schema', () => {
    expect(all.map((entry) => entry.manifest.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service']);
    for (const { file, manifest } of all) {
      const schema = manifestSchemas[manifest.kind];
      expect(schema, `${file}: no schema for ${manifest.kind}`).toBeDefined();
      const result = schema!.safeParse(manifest);
      expect(result.success, `${file}: ${result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`).toBe(true);
    }
  });

  it('is checked by a schema that refuses a misplaced field and a wrong type', () => {
    const deployment = structuredClone(byKind('Deployment')[0]!);
    deployment.spec.template.spec.containers[0].readinesProbe = deployment.spec.template.spec.containers[0].readinessProbe;
    expect(manifestSchemas.Deployment!.safeParse(deployment).success).toBe(false);
    const replicas = structuredClone(byKind('Deployment')[0]!);
    replicas.spec.replicas = 'three';
    expect(manifestSchemas.Deployment!.safeParse(replicas).success).toBe(false);
  });

  it('runs three replicas with a disruption budget, probes on the admin port and a preStop before the drain', () => {
    const [deployment] = byKind('Deployment');
    const [budget] = byKind('PodDisruptionBudget');
    const [service] = byKind('Service');
    const pod = deployment!.spec.template;
    const container = pod.spec.containers[0];
    expect(deployment!.spec.replicas).toBe(3);
    expect(budget!.spec.selector.matchLabels).toEqual(deployment!.spec.selector.matchLabels);
    expect(budget!.spec.minAvailable).toBe(2);
    expect(service!.spec.selector).toEqual(deployment!.spec.selector.matchLabels);
    for (const [key, value] of Object.entries(deployment!.spec.selector.matchLabels as Record<string, string>)) expect(pod.metadata.labels[key]).toBe(value);
    expect(container.args).toEqual(['proxy', '--log-format', 'json']);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'admin' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    expect(container.ports.find((entry: { name: string }) => entry.name === 'admin').containerPort).toBe(8009);
    expect(container.lifecycle.preStop.exec.command).toEqual(['sleep', '5']);
    expect(container.resources.requests).toEqual({ cpu: '250m', memory: '256Mi' });
    // The grace period outlasts the preStop and the drain.
    const drainMs = Number(container.env.find((entry: { name: string }) => entry.name === 'CUTOVER_DRAIN_TIMEOUT_MS').value);
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(5000 + drainMs);
  });

  it('takes its secrets from Secret references and its routes and upstreams from the ConfigMaps it defines', () => {
    const [deployment] = byKind('Deployment');
    const container = deployment!.spec.template.spec.containers[0];
    const fromSecret = container.env.filter((entry: { valueFrom?: unknown }) => entry.valueFrom).map((entry: { name: string; valueFrom: { secretKeyRef: { name: string } } }) => [entry.name, entry.valueFrom.secretKeyRef.name]);
    expect(fromSecret).toEqual([
      ['DATABASE_URL', 'cutover-secrets'],
      ['CUTOVER_ADMIN_TOKEN', 'cutover-secrets'],
      ['JWT_SECRET_KEY', 'cutover-secrets'],
      ['SECRET_KEY', 'cutover-secrets'],
    ]);
    expect(container.env.some((entry: { name: string; value?: string }) => /TOKEN|SECRET|DATABASE_URL/.test(entry.name) && entry.value !== undefined)).toBe(false);
    const configMaps = new Map(byKind('ConfigMap').map((map) => [map.metadata.name, map]));
    expect(configMaps.has(container.envFrom[0].configMapRef.name)).toBe(true);
    const routes = configMaps.get(deployment!.spec.template.spec.volumes.find((volume: { name: string }) => volume.name === 'routes').configMap.name);
    expect(Object.keys(routes!.data)).toEqual(['routes.yaml']);
    expect(container.env.find((entry: { name: string }) => entry.name === 'CUTOVER_ROUTES_FILE').value).toBe('/etc/cutover/routes.yaml');
    const upstreams = configMaps.get('cutover-upstreams')!.data as Record<string, string>;
    expect(Object.keys(upstreams)).toEqual(expect.arrayContaining(servingUpstreamVariables()));
    expect(() => loadConfig({ env: upstreams, file: undefined })).not.toThrow();
  });
});

/** Whether a Docker engine answers here (the CLI alone is not enough). */
const dockerEngine = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', timeout: 10_000 }).status === 0;

describe('deploy/Dockerfile', () => {
  it('is node 20 slim, production dependencies and built JS, a non-root user and a health check on /livez', () => {
    const text = readFileSync(join(deploy, 'Dockerfile'), 'utf8');
    expect(text.match(/^FROM node:20-slim/gm)).toHaveLength(2);
    expect(text).toMatch(/npx tsc -p deploy\/tsconfig\.build\.json/);
    expect(text).toMatch(/npm prune --omit=dev/);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^HEALTHCHECK .*\n.*\/livez/m);
    expect(text).toMatch(/^ENTRYPOINT \["node", "\/app\/cutover\.mjs"\]$/m);
  });

  it.skipIf(!dockerEngine)(`builds${dockerEngine ? '' : ' (skipped: no Docker engine answers on this machine)'}`, () => {
    const build = spawnSync('docker', ['build', '-f', 'deploy/Dockerfile', '-t', 'terrafusion-cutover:test', '.'], { cwd: repoRoot, encoding: 'utf8', timeout: 1_500_000 });
    expect(build.status, build.stderr).toBe(0);
  }, 1_600_000);
});
