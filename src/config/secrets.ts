/**
 * The secrets rule: outside `environment: development`, nothing that serves traffic or changes
 * flags starts with the development JWT or session secret, or with an admin token shorter than
 * 32 characters. The development secrets are declared once, in the legacy gateway's
 * `development_secrets.json` (the Python gateway reads the same file), and read here by the
 * config's defaults, the TypeScript gateway, the proxy and the admin API.
 */
import { readFileSync } from 'node:fs';
import { CutoverError } from '../errors.js';
import type { CutoverConfig } from './schema.js';

const declared = JSON.parse(
  readFileSync(new URL('../../legacy/terrafusion_gateway/development_secrets.json', import.meta.url), 'utf8'),
) as { JWT_SECRET_KEY: string; SECRET_KEY: string };

/** The secrets every development set-up shares; public, so never acceptable elsewhere. */
export const developmentSecrets = Object.freeze({ jwtSecretKey: declared.JWT_SECRET_KEY, sessionSecretKey: declared.SECRET_KEY });

/** The one environment in which the development secrets and short admin tokens are accepted. */
export const developmentEnvironment = 'development';

export const minimumAdminTokenLength = 32;

/** The secrets a part is about to start with; a part leaves out what it does not use. */
export interface SecretsInUse {
  environment: string;
  jwtSecretKey?: string;
  sessionSecretKey?: string;
  /** Admin token by name (the actor its changes are recorded as). */
  adminTokens?: Readonly<Record<string, string>>;
}

/** What is wrong with the secrets for the environment; empty when they may be used. */
export function unsafeSecrets(secrets: SecretsInUse): string[] {
  if (secrets.environment === developmentEnvironment) return [];
  const problems: string[] = [];
  const check = (name: string, value: string | undefined, development: string) => {
    if (value === undefined) return;
    if (value === development) problems.push(`${name} is the development default`);
    else if (value.trim() === '') problems.push(`${name} is empty`);
  };
  check('the JWT secret (auth.jwtSecretKey, JWT_SECRET_KEY)', secrets.jwtSecretKey, developmentSecrets.jwtSecretKey);
  check('the session secret (auth.sessionSecretKey, SECRET_KEY)', secrets.sessionSecretKey, developmentSecrets.sessionSecretKey);
  for (const [name, token] of Object.entries(secrets.adminTokens ?? {})) {
    if (token.length < minimumAdminTokenLength) problems.push(`admin token '${name}' has ${token.length} characters, fewer than ${minimumAdminTokenLength}`);
  }
  return problems;
}

/** Throws CUTOVER_ERR_SECRETS_UNSAFE naming every problem, before `part` starts. */
export function refuseUnsafeSecrets(part: string, secrets: SecretsInUse): void {
  const problems = unsafeSecrets(secrets);
  if (problems.length === 0) return;
  throw new CutoverError('CUTOVER_ERR_SECRETS_UNSAFE', `${part} refuses to start in environment '${secrets.environment}': ${problems.join('; ')}`);
}

/**
 * The admin API's tokens by name: proxy.adminTokens, plus proxy.adminToken as the token named
 * `admin`. Refuses a name given twice and a token shared by two names (its actor would be unknown).
 */
export function namedAdminTokens(proxy: Pick<CutoverConfig['proxy'], 'adminToken' | 'adminTokens'>): Record<string, string> {
  const named: Record<string, string> = { ...proxy.adminTokens };
  if (proxy.adminToken !== '') {
    if ('admin' in named && named.admin !== proxy.adminToken) {
      throw new CutoverError('CUTOVER_ERR_CONFIG_INVALID', "proxy.adminToken and proxy.adminTokens.admin name two different tokens 'admin'; keep one");
    }
    named.admin = proxy.adminToken;
  }
  const owner = new Map<string, string>();
  for (const [name, token] of Object.entries(named)) {
    const other = owner.get(token);
    if (other !== undefined) throw new CutoverError('CUTOVER_ERR_CONFIG_INVALID', `admin tokens '${other}' and '${name}' are the same token; give each name its own`);
    owner.set(token, name);
  }
  return named;
}

/** The secrets of the whole config: what the proxy and the admin API check at start. */
export function configSecrets(config: CutoverConfig): SecretsInUse {
  return {
    environment: config.environment,
    jwtSecretKey: config.auth.jwtSecretKey,
    sessionSecretKey: config.auth.sessionSecretKey,
    adminTokens: namedAdminTokens(config.proxy),
  };
}
