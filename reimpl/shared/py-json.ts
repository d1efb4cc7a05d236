/**
 * JSON exactly as the legacy sync service (FastAPI 0.92 on Python 3.11) puts it on the wire.
 *
 * Reproduces: `json.dumps(jsonable_encoder(value), separators=(",", ":"), ensure_ascii=False)`
 * (FastAPI's JSONResponse) and, with `stored: true`, plain `json.dumps(value)` (how legacy
 * writes JSON columns: `", "`/`": "` separators, ASCII-escaped). JavaScript has one number
 * type, Python has int, float and Decimal, and clients see the difference (`1.0` vs `1`), so
 * values that are Python floats or Decimals travel wrapped in PyFloat / PyDecimal; a bare JS
 * number is a Python int.
 */

/** A Python float: rendered with `repr()` (`1.0`, `1e+16`, `1e-05`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A Python Decimal as PostgreSQL's numeric text; FastAPI 0.92 renders it as an int when it
 * has no fractional digits and as `float(d)` otherwise. */
export class PyDecimal {
  constructor(readonly text: string) {}
  toNumber(): number {
    return Number(this.text);
  }
}

/** A value that is already JSON text (a JSON column passed through unchanged). */
export class RawJson {
  constructor(readonly text: string) {}
}

export type PyValue =
  | null
  | boolean
  | number
  | string
  | PyFloat
  | PyDecimal
  | RawJson
  | PyValue[]
  | { [key: string]: PyValue | undefined };

/** Python's `repr(float)`: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16. */
export function floatRepr(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
  const abs = Math.abs(x);
  if (abs < 1e16 && Number.isInteger(x)) return Object.is(x, -0) ? '-0.0' : `${x}.0`;
  if (abs >= 1e-4 && abs < 1e16) return String(x);
  // toExponential() without an argument gives the shortest round-trip digits, as repr does.
  const [mantissa, exponent] = x.toExponential().split('e') as [string, string];
  const exp = Number(exponent);
  if (exp >= -4 && exp < 16) return String(x);
  const sign = exp < 0 ? '-' : '+';
  return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** FastAPI 0.92's decimal_encoder applied to numeric text, then rendered. */
export function decimalRepr(text: string): string {
  return text.includes('.') ? floatRepr(Number(text)) : text;
}

const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE_ASCII = /["\\\u0000-\u001f\u007f-\uffff]/;

function escapeChar(ch: string): string {
  return ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** A JSON string literal as Python's json module writes it. */
export function stringLiteral(value: string, ensureAscii = false): string {
  const pattern = ensureAscii ? NEEDS_ESCAPE_ASCII : NEEDS_ESCAPE;
  if (!pattern.test(value)) return `"${value}"`;
  let out = '"';
  for (const ch of value) {
    if (ch.length === 2) {
      out += ensureAscii ? escapeChar(ch[0]!) + escapeChar(ch[1]!) : ch;
    } else out += pattern.test(ch) ? escapeChar(ch) : ch;
  }
  return `${out}"`;
}

interface Style {
  comma: string;
  colon: string;
  ascii: boolean;
}
const WIRE: Style = { comma: ',', colon: ':', ascii: false };
const STORED: Style = { comma: ', ', colon: ': ', ascii: true };

function write(value: PyValue | undefined, style: Style): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return stringLiteral(value, style.ascii);
    case 'number':
      return Number.isInteger(value) ? String(value) : floatRepr(value);
    case 'boolean':
      return value ? 'true' : 'false';
  }
  if (value instanceof PyFloat) return floatRepr(value.value);
  if (value instanceof PyDecimal) return decimalRepr(value.text);
  if (value instanceof RawJson) return style === WIRE ? write(parsePyJson(value.text), style) : value.text;
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? style.comma : '') + write(value[i], style);
    return `${out}]`;
  }
  let out = '{';
  let first = true;
  for (const key in value) {
    out += (first ? '' : style.comma) + stringLiteral(key, style.ascii) + style.colon + write(value[key], style);
    first = false;
  }
  return `${out}}`;
}

/** The response body FastAPI's JSONResponse would send for `value`. */
export function pyJson(value: PyValue | undefined): string {
  return write(value, WIRE);
}

/** The text legacy writes into a JSON column (`json.dumps(jsonable_encoder(value))`), or null. */
export function pyJsonStored(value: PyValue | undefined): string | null {
  return value === null || value === undefined ? null : write(value, STORED);
}

/** Where a JSON text stopped being valid. */
export class JsonSyntaxError extends SyntaxError {
  constructor(readonly position: number) {
    super(`invalid JSON at position ${position}`);
  }
}

/**
 * JSON.parse that keeps Python's int/float distinction: numbers written with a fraction or an
 * exponent come back as PyFloat. Used for JSON columns and request bodies, whose floats must
 * stay floats when they are echoed.
 */
export function parsePyJson(text: string): PyValue {
  let i = 0;
  const fail = (): never => {
    throw new JsonSyntaxError(i);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
  };
  const parseString = (): string => {
    const start = ++i;
    let simple = true;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) {
        simple = false;
        i += 2;
      } else i++;
    }
    if (i >= text.length) fail();
    const raw = text.slice(start, i++);
    return simple ? raw : (JSON.parse(`"${raw}"`) as string);
  };
  const parseValue = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, PyValue> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        const key = parseString();
        ws();
        if (text[i++] !== ':') fail();
        out[key] = parseValue();
        ws();
        const sep = text[i++];
        if (sep === '}') return out;
        if (sep !== ',') fail();
      }
    }
    if (c === '[') {
      i++;
      const out: PyValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(parseValue());
        ws();
        const sep = text[i++];
        if (sep === ']') return out;
        if (sep !== ',') fail();
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith('true', i)) return (i += 4), true;
    if (text.startsWith('false', i)) return (i += 5), false;
    if (text.startsWith('null', i)) return (i += 4), null;
    if (text.startsWith('NaN', i)) return (i += 3), new PyFloat(NaN);
    const match = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!match) fail();
    i += match![0].length;
    const n = Number(match![0]);
    return match![1] || match![2] ? new PyFloat(n) : n;
  };
  const value = parseValue();
  ws();
  if (i !== text.length) fail();
  return value;
}

/** Unwraps PyFloat/PyDecimal into plain JS numbers (for computing, not for rendering). */
export function plainNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof PyFloat) return value.value;
  if (value instanceof PyDecimal) return value.toNumber();
  return undefined;
}
