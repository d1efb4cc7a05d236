/**
 * The JSON paths route rules are written in — `$` root, `.key`, `.*` any key, `[*]` any
 * index, `[n]` one index — parsed once and matched against the concrete path of a difference.
 * A pattern covers everything below what it names (`$.result` covers `$.result.size`).
 */

/** One step of a concrete path: an object key or an array index. */
export type PathStep = string | number;

export type PatternStep = { key: string } | { index: number } | { anyKey: true } | { anyIndex: true };

export interface PathPattern {
  text: string;
  steps: readonly PatternStep[];
}

const stepPattern = /\.([A-Za-z0-9_-]+)|\.\*|\[\*\]|\[(\d+)\]/gy;

/** The pattern a rule's path denotes, or undefined when it is not one. */
export function parsePathPattern(text: string): PathPattern | undefined {
  if (!text.startsWith('$')) return undefined;
  const steps: PatternStep[] = [];
  stepPattern.lastIndex = 1;
  while (stepPattern.lastIndex < text.length) {
    const start = stepPattern.lastIndex;
    const match = stepPattern.exec(text);
    if (!match || match.index !== start) return undefined;
    if (match[1] !== undefined) steps.push({ key: match[1] });
    else if (match[2] !== undefined) steps.push({ index: Number(match[2]) });
    else if (match[0] === '.*') steps.push({ anyKey: true });
    else steps.push({ anyIndex: true });
  }
  return { text, steps };
}

function stepMatches(pattern: PatternStep, step: PathStep): boolean {
  if ('key' in pattern) return step === pattern.key;
  if ('index' in pattern) return step === pattern.index;
  if ('anyKey' in pattern) return typeof step === 'string';
  return typeof step === 'number';
}

/** True when the pattern names this path or one of its ancestors. */
export function patternCovers(pattern: PathPattern, path: readonly PathStep[]): boolean {
  if (pattern.steps.length > path.length) return false;
  return pattern.steps.every((step, i) => stepMatches(step, path[i]!));
}

/** True when the pattern names exactly this path. */
export function patternNames(pattern: PathPattern, path: readonly PathStep[]): boolean {
  return pattern.steps.length === path.length && patternCovers(pattern, path);
}

/** `$.a[0].b`, quoting keys that are not plain words. */
export function renderPath(path: readonly PathStep[]): string {
  let out = '$';
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`;
    else out += /^[A-Za-z0-9_-]+$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
  }
  return out;
}

/** The path with every index as `[*]`: how calibrated noise is keyed (`$.jobs[*].job_id`). */
export function generalisePath(path: readonly PathStep[]): string {
  return renderPath(path.map((step) => (typeof step === 'number' ? -1 : step))).replace(/\[-1\]/g, '[*]');
}
