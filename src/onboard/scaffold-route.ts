/**
 * Scaffolding a route: its catalogue entry in flags/routes.yaml (spliced into the text after the
 * service's last route, located through the yaml document API, so every comment, anchor and
 * line of the file stays as it was), its fixture folder, the reimplementation's handler file
 * (answering 501 until written) registered in the service's app, and a contract test that
 * fails until the route is implemented. Every path is under `root`, so a test can use a copy.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { parseRouteCatalogue } from '../../flags/route-catalogue.js';
import { CutoverError } from '../errors.js';

export interface ScaffoldRouteInput {
  routeId: string | undefined;
  service?: string;
  method?: string;
  path?: string;
  writes: boolean;
  upstream?: string;
  owner?: string;
  /** The repository (or a copy of it) to change. */
  root: string;
}

export interface ScaffoldResult {
  created: string[];
  changed: string[];
}

/** Where each upstream's reimplementation builds its app, and the contract client's base URL. */
const reimplApps: Record<string, { app: string; dir: string; baseUrl: string }> = {
  sync: { app: 'reimpl/sync/app.ts', dir: 'reimpl/sync', baseUrl: 'syncUrl' },
  gateway: { app: 'reimpl/gateway/app.ts', dir: 'reimpl/gateway', baseUrl: 'gatewayUrl' },
  narrator: { app: 'reimpl/narrator/app.ts', dir: 'reimpl/narrator', baseUrl: 'narratorUrl' },
};

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

const fail = (message: string) => new CutoverError('CUTOVER_ERR_SCAFFOLD_INVALID', message);

function pascal(text: string): string {
  return text.replace(/(^|[-.])([a-z0-9])/g, (_, __, letter: string) => letter.toUpperCase());
}

/** The catalogue text with the route's line after the service's last route. */
function withRoute(text: string, line: string, service: string, file: string): string {
  const document = parseDocument(text);
  const routes = document.get('routes', true);
  if (!isSeq(routes)) throw fail(`${file} has no routes list`);
  let end = -1;
  for (const item of routes.items) {
    if (isMap(item) && item.get('service') === service && item.range) end = item.range[1];
  }
  if (end === -1) throw fail(`${file} has no route of service ${service} to add it after`);
  const lineEnd = text.indexOf('\n', end - 1);
  const at = lineEnd === -1 ? text.length : lineEnd + 1;
  return `${text.slice(0, at)}${line}\n${text.slice(at)}`;
}

export function scaffoldRoute(input: ScaffoldRouteInput): ScaffoldResult {
  const problems: string[] = [];
  const { routeId = '', service = '', path = '' } = input;
  const method = (input.method ?? '').toUpperCase();
  if (!input.service) problems.push('--service is required');
  if (!METHODS.includes(method)) problems.push(`--method must be one of ${METHODS.join('|')}${input.method ? `, got '${input.method}'` : ''}`);
  if (!input.path) problems.push('--path TEMPLATE is required (e.g. /parcels/{parcel_id}/history)');
  if (!/^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/.test(routeId)) problems.push(`<route-id> '${routeId}' must look like sync.parcels.history`);
  else if (service && !routeId.startsWith(`${service}.`)) problems.push(`<route-id> '${routeId}' must start with its service '${service}.'`);
  const upstream = input.upstream ?? service;
  const target = reimplApps[upstream];
  if (service && !target) problems.push(`--upstream ${upstream}: no reimplemented app to register it in (known: ${Object.keys(reimplApps).join(', ')})`);
  if (problems.length > 0) throw fail(problems.join('; '));

  const routesFile = join(input.root, 'flags/routes.yaml');
  const text = readFileSync(routesFile, 'utf8');
  const owner = input.owner ?? `team-${service}`;
  const quotedPath = /[{}]/.test(path) ? `'${path}'` : path;
  // Whole bodies compared until the route's own rules are written (see the x-compare anchors).
  const compare = '*plain';
  const line = `  - { id: ${routeId}, service: ${service}, method: ${method}, path: ${quotedPath}, owner: ${owner}, writes: ${input.writes},${input.upstream ? ` upstream: ${input.upstream},` : ''} compare: ${compare} }`;
  const before = parseRouteCatalogue(parseDocument(text).toJS(), routesFile);
  if (before.routes.some((route) => route.id === routeId)) throw new CutoverError('CUTOVER_ERR_SCAFFOLD_EXISTS', `${routeId} is already in ${routesFile}`);
  if (!before.services.some((declared) => declared.name === service)) throw fail(`--service ${service} is not a service of ${routesFile}`);
  const updated = withRoute(text, line, service, routesFile);
  // The catalogue's own loader judges the result (path template, upstream of the service, shape unique).
  parseRouteCatalogue(parseDocument(updated).toJS(), routesFile);

  const name = routeId.slice(service.length + 1).replace(/\./g, '-');
  const register = `register${pascal(name)}`;
  const handlerFile = join(target!.dir, `${name}.ts`);
  const testFile = join('tests/contract', service, `${name}.test.ts`);
  const fixtureDir = join('parity/fixtures', routeId);
  for (const file of [handlerFile, testFile]) if (existsSync(join(input.root, file))) throw new CutoverError('CUTOVER_ERR_SCAFFOLD_EXISTS', `${file} already exists`);

  const appFile = join(input.root, target!.app);
  const app = readFileSync(appFile, 'utf8').split('\n');
  const lastImport = app.map((l) => /^import .*;$/.test(l)).lastIndexOf(true);
  const built = app.findIndex((l) => /Fastify\(/.test(l));
  const returns = app.findIndex((l, index) => index > built && /^ {2}return\b/.test(l));
  if (lastImport === -1 || built === -1 || returns === -1) throw fail(`${target!.app}: cannot find where its app registers routes`);
  app.splice(returns, 0, `  ${register}(app);`, '');
  app.splice(lastImport + 1, 0, `import { ${register} } from './${name}.js';`);

  const fastifyPath = path.replace(/\{[a-z_][a-z0-9_]*\*\}$/, '*').replace(/\{([a-z_][a-z0-9_]*)\}/g, ':$1');
  const examplePath = path.replace(/\{([a-z_][a-z0-9_]*)\*?\}/g, 'example-$1');
  const handler = `/**
 * ${method} ${path} (route ${routeId}; legacy: the ${service} service's ${method} ${path},
 * ../shared/legacy-contract.md). Scaffolded by \`cutover scaffold route\`: it answers 501 until
 * written, and ${testFile} fails until it answers as legacy does.
 */
import type { FastifyInstance } from 'fastify';

export function ${register}(app: FastifyInstance): void {
  app.route({
    method: '${method}',
    url: '${fastifyPath}',
    handler: async (_request, reply) => reply.code(501).send({ detail: 'Not Implemented: ${routeId} is scaffolded, not written yet' }),
  });
}
`;
  const test = `// Contract: ${method} ${path} (route ${routeId}), scaffolded by \`cutover scaffold route\`.
// It fails until the route is implemented. Replace the example path and the expectations below
// with what legacy answers (legacy-contract.md, or a fixture: cutover record --route ${routeId}),
// run it against legacy, then make ${handlerFile} pass it (CUTOVER_TARGET=reimpl).
import { describe, expect, it } from 'vitest';
import { call, platform } from '../gateway/gateway-client.js';

describe('${routeId}', () => {
  it('answers ${method} ${path} as legacy does', async () => {
    const reply = await call('${examplePath}', { method: '${method}', baseUrl: platform.${target!.baseUrl} });
    expect(reply.status, 'the scaffold answers 501 Not Implemented').not.toBe(501);
    expect(reply.status, 'the route is not served').not.toBe(404);
  });
});
`;
  writeFileSync(routesFile, updated);
  writeFileSync(appFile, app.join('\n'));
  mkdirSync(join(input.root, fixtureDir), { recursive: true });
  writeFileSync(join(input.root, fixtureDir, '.gitkeep'), '');
  mkdirSync(join(input.root, 'tests/contract', service), { recursive: true });
  writeFileSync(join(input.root, handlerFile), handler);
  writeFileSync(join(input.root, testFile), test);
  return { created: [handlerFile, testFile, join(fixtureDir, '.gitkeep')], changed: ['flags/routes.yaml', target!.app] };
}
