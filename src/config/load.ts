/** Reads the configuration: defaults <- config file <- environment variables; validated and frozen. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CutoverError } from '../errors.js';
import { configSchema, environmentVariables, upstreamSides, upstreamVariablePrefix, type ConfigInput, type CutoverConfig } from './schema.js';

export interface LoadConfigOptions {
  /** Path of a JSON config file; defaults to $CUTOVER_CONFIG, then ./cutover.config.json when present. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Programmatic overrides, applied last (tests use these for ephemeral ports). */
  overrides?: ConfigInput;
}

type Tree = { [key: string]: unknown };

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isTree(current) && isTree(value) ? merge(current, value) : value;
  }
  return out;
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node = isTree(next) ? next : (node[key] = {});
  }
  node[keys[keys.length - 1]!] = value;
}

/** `name:value,name:value` as an object; the value is what follows the first colon. Values are never echoed (they are secrets). */
function pairsFromEnvironment(variable: string, raw: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const [index, pair] of raw.split(',').entries()) {
    const at = pair.indexOf(':');
    const name = pair.slice(0, at).trim();
    if (at <= 0 || name === '' || at === pair.length - 1) {
      throw new CutoverError('CUTOVER_ERR_CONFIG_INVALID', `${variable}: entry ${index + 1} is not name:value`);
    }
    pairs[name] = pair.slice(at + 1);
  }
  return pairs;
}

function fromEnvironment(env: NodeJS.ProcessEnv): Tree {
  const tree: Tree = {};
  for (const variable of environmentVariables) {
    const raw = env[variable.name];
    if (raw === undefined || raw === '') continue;
    if (variable.kind === 'pairs') {
      setPath(tree, variable.path, pairsFromEnvironment(variable.name, raw));
      continue;
    }
    const value = variable.kind === 'number' ? Number(raw) : raw;
    if (variable.kind === 'number' && !Number.isFinite(value)) {
      throw new CutoverError('CUTOVER_ERR_CONFIG_INVALID', `${variable.name}=${raw} is not a number`);
    }
    setPath(tree, variable.path, value);
  }
  for (const [side, name, url] of upstreamVariables(env)) setPath(tree, `proxy.upstreams.${side}.${name}`, url);
  return tree;
}

// Longest first: SHADOW_LEGACY_SYNC is the shadow side's sync, not a legacy upstream named SHADOW_... .
const sidesByPrefix = Object.entries(upstreamSides).sort(([, a], [, b]) => b.length - a.length);

/** CUTOVER_UPSTREAM_<SIDE>_<NAME>=url as [side, NAME, url]; other CUTOVER_UPSTREAM_* variables (the TLS files) are not upstreams. */
function upstreamVariables(env: NodeJS.ProcessEnv): Array<[string, string, string]> {
  const found: Array<[string, string, string]> = [];
  for (const [variable, url] of Object.entries(env)) {
    if (!variable.startsWith(upstreamVariablePrefix) || url === undefined || url === '') continue;
    const rest = variable.slice(upstreamVariablePrefix.length);
    const side = sidesByPrefix.find(([, prefix]) => rest.startsWith(`${prefix}_`) && rest.length > prefix.length + 1);
    if (side) found.push([side[0], rest.slice(side[1].length + 1), url]);
  }
  return found;
}

function fromFile(path: string | undefined): Tree {
  if (path === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CutoverError('CUTOVER_ERR_CONFIG_INVALID', `cannot read config file ${path}: ${(error as Error).message}`);
  }
  if (!isTree(parsed)) throw new CutoverError('CUTOVER_ERR_CONFIG_INVALID', `config file ${path} must hold a JSON object`);
  return parsed;
}

function configFilePath(options: LoadConfigOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (options.file) return resolve(options.file);
  if (env.CUTOVER_CONFIG) return resolve(env.CUTOVER_CONFIG);
  const local = resolve('cutover.config.json');
  return existsSync(local) ? local : undefined;
}

function deepFreeze<T>(value: T): T {
  if (isTree(value) || Array.isArray(value)) {
    for (const child of Object.values(value as object)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Loads and validates the configuration; throws CUTOVER_ERR_CONFIG_INVALID naming every bad field. */
export function loadConfig(options: LoadConfigOptions = {}): CutoverConfig {
  const env = options.env ?? process.env;
  const layered = merge(
    merge(fromFile(configFilePath(options, env)), fromEnvironment(env)),
    (options.overrides ?? {}) as Tree,
  );
  const result = configSchema.safeParse(layered);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new CutoverError('CUTOVER_ERR_CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`);
  }
  return deepFreeze(result.data);
}
