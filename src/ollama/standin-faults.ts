/**
 * Faults the stand-in can be told to inject, so tests can see what a caller does when Ollama
 * is slow, failing or gone: set through `startOllamaStandin({faults})`, the in-process
 * `setFaults()`, or PUT /_standin/faults from another process.
 */
import { z } from 'zod';

export const faultSchema = z
  .object({
    /** Delay before answering, in milliseconds. */
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    /** Answer with this HTTP status and `{"error": errorMessage}` instead of a completion. */
    status: z.number().int().min(400).max(599).optional(),
    errorMessage: z.string().default('stand-in fault injected'),
    /** Destroy the connection without any answer (after `latencyMs`). */
    drop: z.boolean().default(false),
    /** Only requests to these paths are faulted (e.g. ["/api/generate"]); default every /api/ and /v1/ path. */
    paths: z.array(z.string().startsWith('/')).optional(),
    /** Only requests whose raw body contains this text are faulted: lets tests sharing one stand-in fault only their own calls. */
    bodyContains: z.string().min(1).optional(),
    /** Fault only the next N matching requests, then behave again; default: until cleared. */
    times: z.number().int().positive().optional(),
  })
  .strict();

export type FaultSpec = z.input<typeof faultSchema>;
export type Fault = z.output<typeof faultSchema>;

/** The fault (if any) that applies to a request, consuming one of its `times`. */
export class FaultPlan {
  #fault: Fault | undefined;
  #remaining = Infinity;

  set(spec: FaultSpec | undefined): Fault | undefined {
    this.#fault = spec === undefined ? undefined : faultSchema.parse(spec);
    this.#remaining = this.#fault?.times ?? Infinity;
    return this.#fault;
  }

  current(): (Fault & { remaining: number | null }) | null {
    if (!this.#fault) return null;
    return { ...this.#fault, remaining: Number.isFinite(this.#remaining) ? this.#remaining : null };
  }

  take(path: string, body: string): Fault | undefined {
    const fault = this.#fault;
    if (!fault || !(path.startsWith('/api/') || path.startsWith('/v1/'))) return undefined;
    if (fault.paths && !fault.paths.includes(path)) return undefined;
    if (fault.bodyContains !== undefined && !body.includes(fault.bodyContains)) return undefined;
    this.#remaining -= 1;
    if (this.#remaining <= 0) this.#fault = undefined;
    return fault;
  }
}
