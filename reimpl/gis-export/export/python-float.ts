/**
 * Python's `float(value or 0)` for a decoded JSON value: what legacy's FeatureShaper does to
 * `simplify_tolerance` (legacy/terrafusion_sync/gis/geometry.py). Strings parse by Python's
 * float() grammar (whitespace, underscores between digits, inf/nan; no hex), and a value it
 * refuses fails the job with Python's own message. Found by `cutover fuzz`: the reimplementation
 * read "0x10" as 16 and completed a job legacy fails.
 */
import { ExportError } from './formats.js';

const decimal = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const special = /^[+-]?(?:inf|infinity|nan)$/i;

/** Python's repr() of a str, as ValueError messages quote it. */
export function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '\\' || char === quote) out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return `${quote}${out}${quote}`;
}

const pythonTypeName = (value: unknown) => (value === null ? 'NoneType' : Array.isArray(value) ? 'list' : typeof value === 'object' ? 'dict' : typeof value);

/** float(value or 0), or an ExportError with Python's message. */
export function pythonFloatOrZero(value: unknown): number {
  const falsy = value === null || value === undefined || value === false || value === 0 || value === ''
    || (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);
  if (falsy) return 0;
  if (value === true) return 1;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const stripped = value.trim();
    if (decimal.test(stripped)) return Number(stripped.replace(/_/g, ''));
    if (special.test(stripped)) return /nan/i.test(stripped) ? Number.NaN : stripped.startsWith('-') ? -Infinity : Infinity;
    throw new ExportError(`could not convert string to float: ${pythonRepr(value)}`);
  }
  throw new ExportError(`float() argument must be a string or a real number, not '${pythonTypeName(value)}'`);
}
