/**
 * Loads parity/accepted-differences.yaml, the one registry of accepted differences, validated
 * at load (a bad entry throws CUTOVER_ERR_ACCEPTED_DIFFERENCES_INVALID naming it) and frozen.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CutoverError } from '../../src/errors.js';
import type { AcceptedDifference } from './accepted.js';

export const defaultAcceptedDifferencesFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'accepted-differences.yaml');

const valueMatch = z.union([z.strictObject({ equals: z.unknown() }), z.strictObject({ matches: z.string().min(1) }), z.strictObject({ absent: z.literal(true) })]);
const path = z.string().regex(/^(status|headers\.[a-z0-9-]+|\$(\.[A-Za-z0-9_-]+|\.\*|\[\*\]|\[\d+\])*)$/, 'a JSON path ($.a[*].b), status, or headers.<name>');

const entrySchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a kebab-case id'),
  routes: z.array(z.string().min(1)).min(1),
  absorbs: z.array(z.strictObject({ path, legacy: valueMatch.optional(), reimpl: valueMatch.optional(), kinds: z.array(z.string().min(1)).optional() })).min(1),
  rule: z.string().min(1),
  reason: z.string().min(1),
  'accepted-by': z.string().min(1),
  fix: z.strictObject({ default: z.enum(['on', 'off']) }).optional(),
});

const fileSchema = z.strictObject({ version: z.literal(1), differences: z.array(entrySchema) });

export interface AcceptedRegistry {
  entries: readonly AcceptedDifference[];
  /** The entries that apply to a route (the engine's CompareContext.accepted). */
  forRoute(routeId: string): readonly AcceptedDifference[];
}

function invalid(file: string, message: string): CutoverError {
  return new CutoverError('CUTOVER_ERR_ACCEPTED_DIFFERENCES_INVALID', `accepted differences ${file}: ${message}`);
}

/** Reads and validates the registry; `routeIds`, when given, must name every route an entry lists. */
export function loadAcceptedDifferences(file: string = defaultAcceptedDifferencesFile, routeIds?: ReadonlySet<string>): AcceptedRegistry {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw invalid(file, (error as Error).message);
  }
  const result = fileSchema.safeParse(raw);
  if (!result.success) throw invalid(file, result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; '));
  const seen = new Set<string>();
  const entries = result.data.differences.map((entry): AcceptedDifference => {
    if (seen.has(entry.id)) throw invalid(file, `duplicate id ${entry.id}`);
    seen.add(entry.id);
    const unknownRoutes = routeIds ? entry.routes.filter((route) => !routeIds.has(route)) : [];
    if (unknownRoutes.length > 0) throw invalid(file, `${entry.id} names routes not in the catalogue: ${unknownRoutes.join(', ')}`);
    for (const absorbs of entry.absorbs) {
      if (absorbs.legacy && 'matches' in absorbs.legacy) checkRegex(file, entry.id, absorbs.legacy.matches);
      if (absorbs.reimpl && 'matches' in absorbs.reimpl) checkRegex(file, entry.id, absorbs.reimpl.matches);
    }
    return Object.freeze({
      id: entry.id,
      routes: entry.routes,
      absorbs: entry.absorbs as AcceptedDifference['absorbs'],
      rule: entry.rule,
      reason: entry.reason,
      acceptedBy: entry['accepted-by'],
      ...(entry.fix ? { fix: entry.fix } : {}),
    });
  });
  const byRoute = new Map<string, AcceptedDifference[]>();
  for (const entry of entries) for (const route of entry.routes) byRoute.set(route, [...(byRoute.get(route) ?? []), entry]);
  return Object.freeze({ entries, forRoute: (routeId: string) => byRoute.get(routeId) ?? [] });
}

function checkRegex(file: string, id: string, pattern: string): void {
  try {
    new RegExp(pattern);
  } catch (error) {
    throw invalid(file, `${id}: bad regular expression ${pattern}: ${(error as Error).message}`);
  }
}
