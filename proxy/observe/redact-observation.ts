/**
 * An Observation as it may be stored or reported: its request path, both kept bodies and every
 * difference (values and detail) through the one redactor (parity/compare/redact.ts). It runs
 * after the comparison has given the verdict, never before, so a difference in a secret or a
 * PII field stays a mismatch; a storage redactor's fingerprinted markers keep two differing
 * values distinguishable, and a difference whose redacted values would read alike says so.
 */
import { parsePath, type PathStep } from '../../parity/compare/json-path.js';
import type { Redactor } from '../../parity/compare/redact.js';
import type { Difference } from '../shadow/compare.js';
import type { Observation, ObservedSide } from './observation.js';

const headerPrefix = 'headers.';
const differingNote = 'the values differ (both redacted)';

function headerValue(redactor: Redactor, name: string, text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return redactor.jsonText(text);
  }
  return typeof value === 'string' ? JSON.stringify(redactor.headers({ [name]: value })[name]) : redactor.jsonText(text);
}

/** A stored detail may quote the values (correlation, noise): a hidden field's raw value is taken out of it too. */
function scrubbedDetail(redactor: Redactor, detail: string, steps: readonly PathStep[] | undefined, originals: ReadonlyArray<[string | undefined, string | undefined]>): string {
  let out = detail;
  if (steps && redactor.hides(steps)) {
    for (const [original, replaced] of originals) {
      if (original === undefined || replaced === undefined) continue;
      let raw: unknown = original;
      try {
        raw = JSON.parse(original);
      } catch {
        // a value cut at its bound: its text is what a detail could quote
      }
      const text = typeof raw === 'string' ? raw : original;
      if (text.length >= 2) out = out.split(text).join(replaced);
    }
  }
  return redactor.jsonText(out);
}

/** One difference, redacted according to where it sits: a header, a JSON path of the body, or the body as a whole. */
export function redactDifference(difference: Difference, redactor: Redactor): Difference {
  if (difference.path === 'status') return difference;
  const header = difference.path.startsWith(headerPrefix) ? difference.path.slice(headerPrefix.length) : undefined;
  const steps = header === undefined ? parsePath(difference.path) : undefined;
  const value = (text: string | undefined) => {
    if (text === undefined) return undefined;
    return header !== undefined ? headerValue(redactor, header, text) : redactor.jsonText(text, steps ?? []);
  };
  const serving = value(difference.serving);
  const shadow = value(difference.shadow);
  const originals: Array<[string | undefined, string | undefined]> = [
    [difference.serving, serving],
    [difference.shadow, shadow],
  ];
  let detail = difference.detail === undefined ? undefined : scrubbedDetail(redactor, difference.detail, steps, originals);
  if (serving !== undefined && serving === shadow && difference.serving !== difference.shadow) {
    detail = detail ? `${detail}; ${differingNote}` : differingNote;
  }
  return {
    ...difference,
    ...(serving === undefined ? {} : { serving }),
    ...(shadow === undefined ? {} : { shadow }),
    ...(detail === undefined ? {} : { detail }),
  };
}

export interface RedactObservationOptions {
  /** Redact the kept bodies too (default); a report, which never shows them, leaves them out instead. */
  bodies?: boolean;
}

function redactSide(observed: ObservedSide, redactor: Redactor, keepBodies: boolean): ObservedSide {
  // Most observations keep no body (a match never does): the side as it is, not a copy of it.
  if (observed.body === null) return observed;
  return { ...observed, body: keepBodies ? redactor.document(observed.body) : null };
}

/** The observation with its path, bodies and differences redacted; verdict, statuses and latencies as they were. */
export function redactObservation(observation: Observation, redactor: Redactor, options: RedactObservationOptions = {}): Observation {
  const keepBodies = options.bodies ?? true;
  return {
    ...observation,
    path: redactor.path(observation.path),
    serving: redactSide(observation.serving, redactor, keepBodies),
    shadow: redactSide(observation.shadow, redactor, keepBodies),
    differences: observation.differences.length === 0 ? observation.differences : observation.differences.map((difference) => redactDifference(difference, redactor)),
  };
}
