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

/** Reads `$` and then one step per match of a sticky pattern to the end; undefined when the text is not all steps. */
function readSteps<T>(text: string, pattern: RegExp, step: (match: RegExpExecArray) => T): T[] | undefined {
  if (!text.startsWith('$')) return undefined;
  const steps: T[] = [];
  pattern.lastIndex = 1;
  while (pattern.lastIndex < text.length) {
    const start = pattern.lastIndex;
    const match = pattern.exec(text);
    if (!match || match.index !== start) return undefined;
    steps.push(step(match));
  }
  return steps;
}

/** The pattern a rule's path denotes, or undefined when it is not one. */
export function parsePathPattern(text: string): PathPattern | undefined {
  const steps = readSteps(text, stepPattern, (match): PatternStep => {
    if (match[1] !== undefined) return { key: match[1] };
    if (match[2] !== undefined) return { index: Number(match[2]) };
    return match[0] === '.*' ? { anyKey: true } : { anyIndex: true };
  });
  return steps && { text, steps };
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

const concreteStep = /\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;

/** The steps of a path renderPath wrote (`$.a[0]["b c"]`), or undefined when the text is not one. */
export function parsePath(text: string): PathStep[] | undefined {
  return readSteps(text, concreteStep, (match): PathStep => {
    if (match[1] !== undefined) return match[1];
    if (match[2] !== undefined) return Number(match[2]);
    return JSON.parse(match[3]!) as string;
  });
}
