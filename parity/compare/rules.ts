/**
 * A route's compare rules as routes.yaml declares them: the paths left out (`ignore`), the
 * response headers compared, and per-path comparators (`paths`) that say what a field IS —
 * a number with a tolerance, a timestamp, a uuid, a set keyed by a field, a geometry, an
 * exported file, narrator text — so two values are compared as what they mean, not as bytes.
 * The zod schema here is the one flags/route-catalogue.ts validates routes.yaml with.
 */
import { z } from 'zod';

const jsonPath = z.string().regex(/^\$(\.[A-Za-z0-9_-]+|\.\*|\[\*\]|\[\d+\])*$/, 'a JSON path like $.job_id or $[*].created_at');

const numberRule = z.strictObject({
  as: z.literal('number'),
  /** Largest |legacy - reimpl| that is still equal. */
  absolute: z.number().nonnegative().optional(),
  /** Largest |legacy - reimpl| / max(|legacy|, |reimpl|) that is still equal. */
  relative: z.number().nonnegative().optional(),
  /** `strict` (default): `1.0` vs `1` is a `number-rendering` difference, since a strict client sees it; `loose` compares values only. */
  rendering: z.enum(['strict', 'loose']).default('strict'),
});

const timestampRule = z.strictObject({
  as: z.literal('timestamp'),
  /**
   * Largest distance between the two instants that is still equal. Absent: the instants are
   * compared relationally — each side's value inside that side's own window, the order of
   * `notBefore` kept, the format kept — and a difference that keeps them all is `within-window`
   * (matched); for fields like created_at that no two runs share (live shadowing, replay).
   */
  toleranceMs: z.number().nonnegative().optional(),
  /** `same` (default): both must be written in the same format (naive vs zoned, precision); `any`: instants only. */
  format: z.enum(['same', 'any']).default('same'),
  /**
   * Where the window opens: `job` (default) when the request that created the job the answer
   * shows was sent (a run, or the run a correlated id came from); `answer` when this request was
   * sent (a health check's clock). It closes when the answer was read whole.
   */
  window: z.enum(['job', 'answer']).default('job'),
  /** Sibling fields this one is never earlier than, on each side (created ≤ started ≤ completed, updated ≥ created). */
  notBefore: z.array(z.string().min(1)).default([]),
  /** The clocks' resolution allowed at the window's edges (the harness and the services read one clock on one machine). */
  windowSlackMs: z.number().nonnegative().default(5),
});

const durationRule = z.strictObject({
  as: z.literal('duration'),
  /** What the number counts: seconds or milliseconds. */
  unit: z.enum(['s', 'ms']),
  /**
   * The values it may take (in `unit`), as a person states them; a learned range is the
   * route's calibrated noise. Always: the kind kept (integer or decimal, as written), not
   * negative, and no longer than the side's own window.
   */
  range: z.strictObject({ min: z.number().nonnegative(), max: z.number().nonnegative() }).optional(),
});

const uuidRule = z.strictObject({ as: z.literal('uuid') });
const listRule = z.strictObject({ as: z.literal('list') });
const setRule = z.strictObject({
  as: z.literal('set'),
  /** Items are paired by this field's value; without it, by their whole value. */
  key: z.string().min(1).optional(),
});
const geometryRule = z.strictObject({
  as: z.literal('geometry'),
  /** Largest coordinate distance (per axis) that is still the same vertex. */
  epsilon: z.number().nonnegative().default(1e-9),
});
const textRule = z.strictObject({
  as: z.literal('text'),
  /** exact (default), normalised (case, whitespace, punctuation spacing), or similar (token similarity ≥ threshold). */
  mode: z.enum(['exact', 'normalised', 'similar']).default('exact'),
  threshold: z.number().min(0).max(1).default(0.8),
});
const fileRule = z.strictObject({
  as: z.literal('file'),
  /** Coordinate tolerance for geometries inside the file. */
  epsilon: z.number().nonnegative().default(1e-7),
  /** Attribute fields not compared (e.g. a generation timestamp column). */
  ignoreFields: z.array(z.string().min(1)).default([]),
});
const exactRule = z.strictObject({ as: z.literal('exact') });
/** A whole-body rule (`$`): a Prometheus text exposition, compared by families, types, help and label names (parity/compare/metrics.ts). */
const metricsRule = z.strictObject({ as: z.literal('metrics') });

export const pathRuleSchema = z.discriminatedUnion('as', [numberRule, timestampRule, durationRule, uuidRule, listRule, setRule, geometryRule, textRule, fileRule, exactRule, metricsRule]);

export type PathRule = z.output<typeof pathRuleSchema>;
export type PathRuleInput = z.input<typeof pathRuleSchema>;

/**
 * A path's noise as a person states it in the route's rules: how legacy-vs-legacy varies there
 * (what `cutover calibrate` would learn), kept whatever a calibration learns.
 */
const pinnedNoiseSchema = z.strictObject({
  varies: z.enum(['always', 'sometimes']).default('always'),
  rate: z.number().gt(0).max(1).default(1),
  kind: z.enum(['uuid', 'timestamp', 'integer', 'number', 'string', 'boolean', 'null', 'array', 'object']),
  format: z.string().min(1).optional(),
  range: z.strictObject({ min: z.number(), max: z.number() }).optional(),
  maxDelta: z.number().nonnegative().optional(),
});

export type PinnedNoise = z.infer<typeof pinnedNoiseSchema>;

export const compareRulesSchema = z
  .strictObject({
    /** Paths left out of the body comparison; `$` alone ignores the whole body (e.g. Prometheus text). */
    ignore: z.array(jsonPath).default([]),
    /** Lower-case response header names compared. */
    headers: z.array(z.string().regex(/^[a-z0-9-]+$/, 'a lower-case header name')).default([]),
    /** Per-path comparators; `$` names the whole body (e.g. `{ as: file }` for a download). */
    paths: z.record(jsonPath, pathRuleSchema).default({}),
    /**
     * Calibrated noise pinned or overruled here: a path's stated variation (applied with or
     * without a calibration, never overwritten by one), or `off` (whatever calibrate learnt at
     * that path is not applied: any difference there is a mismatch).
     */
    noise: z.record(jsonPath, z.union([z.literal('off'), pinnedNoiseSchema])).default({}),
  })
  .prefault({});

/** A route's compare rules, validated. `paths` may be absent in rules built by hand. */
export interface RouteCompareRules {
  ignore: readonly string[];
  headers: readonly string[];
  paths?: Readonly<Record<string, PathRule>>;
  noise?: Readonly<Record<string, 'off' | PinnedNoise>>;
}

/** Validates hand-written rules (tests, tools), filling defaults as routes.yaml loading does. */
export function compareRules(input: z.input<typeof compareRulesSchema>): RouteCompareRules {
  return compareRulesSchema.parse(input);
}
