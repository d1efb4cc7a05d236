/**
 * Python's `json.dumps(value)` with its defaults (", " and ": " separators, ensure_ascii), the
 * serialisation the legacy narrator uses for its Ollama request body. JavaScript numbers do not
 * say whether they are ints or floats, so floats are marked with `pyFloat` (1 → "1.0").
 */
export class PyFloat {
  constructor(readonly value: number) {}
}

export const pyFloat = (value: number) => new PyFloat(value);

function asciiString(text: string): string {
  // JSON.stringify already escapes quotes, backslashes and control characters as Python does.
  return JSON.stringify(text).replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function floatRepr(value: number): string {
  if (Number.isInteger(value)) return `${value}.0`;
  return String(value);
}

export function pythonJsonDumps(value: unknown): string {
  if (value instanceof PyFloat) return floatRepr(value.value);
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`${value} is not an int: wrap floats in pyFloat()`);
    return String(value);
  }
  if (typeof value === 'string') return asciiString(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([key, item]) => `${asciiString(key)}: ${pythonJsonDumps(item)}`).join(', ')}}`;
  }
  throw new Error(`cannot serialise ${typeof value}`);
}
