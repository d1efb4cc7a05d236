/**
 * Request-body validation with pydantic v1's observable behaviour, as FastAPI 0.92 reports it:
 * the same coercions (a number given for a str becomes its str()), the same messages and
 * `type` codes, errors in field declaration order, nested `loc` paths, and root validators
 * that run only when every field passed (`skip_on_failure=True`, legacy's only kind).
 */
import { floatRepr, PyFloat, type PyValue } from './py-json.js';
import { pythonFloat } from './python-float.js';

export interface ValidationIssue {
  loc: Array<string | number>;
  msg: string;
  type: string;
  ctx?: Record<string, PyValue>;
}

/** Thrown by a validator to report one issue at its own location. */
export class FieldError extends Error {
  constructor(readonly issue: Omit<ValidationIssue, 'loc'>) {
    super(issue.msg);
  }
}

export type Validator = (value: PyValue, loc: Array<string | number>, issues: ValidationIssue[]) => PyValue;

export interface FieldSpec {
  name: string;
  validator: Validator;
  /** Required fields report `field required` when absent; optional ones default to `fallback`. */
  required?: boolean;
  /** `Optional[...]`: null is accepted as None; otherwise null is `none is not an allowed value`. */
  nullable?: boolean;
  fallback?: PyValue;
}

export interface ModelSpec {
  fields: FieldSpec[];
  /** Extra.allow keeps unknown keys (after the declared ones), Extra.ignore drops them. */
  allowExtra?: boolean;
  /** Root validators: return an error message, or undefined when the values are fine. */
  roots?: Array<(values: Record<string, PyValue>) => string | undefined>;
}

/** A validated model: its values and which keys the input set (pydantic's fields_set). */
export interface ModelValue {
  values: Record<string, PyValue>;
  set: Set<string>;
}

const isPlainObject = (v: PyValue): v is Record<string, PyValue> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof PyFloat) && v.constructor === Object;

export function issue(msg: string, type: string, ctx?: Record<string, PyValue>): FieldError {
  return new FieldError(ctx ? { msg, type, ctx } : { msg, type });
}

/** Validates `input` against `model`; issues are appended with `loc` prefixed. */
export function validateModel(model: ModelSpec, given: PyValue, loc: Array<string | number>, issues: ValidationIssue[]): ModelValue | undefined {
  const coerced = pyDict(given);
  if (coerced === undefined) {
    issues.push({ loc, msg: 'value is not a valid dict', type: 'type_error.dict' });
    return undefined;
  }
  // cls(**dict(value)): Python refuses keyword arguments that are not strings.
  if (coerced.nonStringKey) {
    issues.push({ loc, msg: 'keywords must be strings', type: 'type_error' });
    return undefined;
  }
  const input = coerced.value;
  const before = issues.length;
  const values: Record<string, PyValue> = {};
  const set = new Set<string>();
  for (const field of model.fields) {
    const fieldLoc = [...loc, field.name];
    if (!(field.name in input)) {
      if (field.required) issues.push({ loc: fieldLoc, msg: 'field required', type: 'value_error.missing' });
      else values[field.name] = field.fallback ?? null;
      continue;
    }
    set.add(field.name);
    const raw = input[field.name]!;
    if (raw === null) {
      if (field.nullable) values[field.name] = null;
      else issues.push({ loc: fieldLoc, msg: 'none is not an allowed value', type: 'type_error.none.not_allowed' });
      continue;
    }
    try {
      values[field.name] = field.validator(raw, fieldLoc, issues);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      issues.push({ loc: fieldLoc, ...error.issue });
    }
  }
  if (model.allowExtra) {
    for (const key of Object.keys(input)) {
      if (model.fields.some((f) => f.name === key)) continue;
      values[key] = input[key]!;
      set.add(key);
    }
  }
  if (issues.length > before) return undefined;
  for (const root of model.roots ?? []) {
    const message = root(values);
    if (message !== undefined) {
      issues.push({ loc: [...loc, '__root__'], msg: message, type: 'value_error' });
      return undefined;
    }
  }
  return { values, set };
}

/** pydantic v1 `.dict(exclude_unset=True)`: only the keys the input set, in model order. */
export function setValues(model: ModelValue): Record<string, PyValue> {
  const out: Record<string, PyValue> = {};
  for (const key of Object.keys(model.values)) if (model.set.has(key)) out[key] = model.values[key]!;
  return out;
}

export const str: Validator = (value) => {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  if (value instanceof PyFloat) return floatRepr(value.value);
  throw issue('str type expected', 'type_error.str');
};

export const dict: Validator = (value) => {
  const coerced = pyDict(value);
  if (coerced === undefined) throw issue('value is not a valid dict', 'type_error.dict');
  if (!coerced.nonStringKey) return coerced.value;
  // Dict[str, Any]: keys go through the str validator (1 -> '1').
  const out: Record<string, PyValue> = {};
  for (const [key, item] of coerced.pairs) out[str(key, [], []) as string] = item;
  return out;
};

/**
 * pydantic v1's dict coercion (`dict(value)` for models and `Dict` fields): a dict as is; a
 * list of 2-item pairs (lists, or 2-character strings) or a string (only "" works) becomes a
 * dict, later keys winning; anything else is not a dict. Python iterates strings by code point.
 */
export function pyDict(value: PyValue): { value: Record<string, PyValue>; pairs: Array<[PyValue, PyValue]>; nonStringKey: boolean } | undefined {
  if (isPlainObject(value)) return { value, pairs: [], nonStringKey: false };
  let items: PyValue[];
  if (typeof value === 'string') items = [...value];
  else if (Array.isArray(value)) items = value;
  else return undefined;
  const pairs: Array<[PyValue, PyValue]> = [];
  for (const item of items) {
    const pair: PyValue[] | undefined = typeof item === 'string' ? [...item] : Array.isArray(item) ? item : isPlainObject(item) ? Object.keys(item) : undefined;
    if (!pair || pair.length !== 2) return undefined;
    // A list or dict key is unhashable: dict() raises, pydantic says "not a valid dict".
    if (pair[0] !== null && typeof pair[0] === 'object' && !(pair[0] instanceof PyFloat)) return undefined;
    pairs.push([pair[0]!, pair[1]!]);
  }
  const out: Record<string, PyValue> = {};
  let nonStringKey = false;
  for (const [key, item] of pairs) {
    if (typeof key !== 'string') nonStringKey = true;
    else out[key] = item;
  }
  return { value: out, pairs, nonStringKey };
}

/** `List[item]` with optional conlist bounds. */
export function list(item: Validator, bounds: { minItems?: number; maxItems?: number } = {}): Validator {
  return (value, loc, issues) => {
    if (!Array.isArray(value)) throw issue('value is not a valid list', 'type_error.list');
    const before = issues.length;
    const out: PyValue[] = [];
    value.forEach((entry, index) => {
      if (entry === null) {
        issues.push({ loc: [...loc, index], msg: 'none is not an allowed value', type: 'type_error.none.not_allowed' });
        return;
      }
      try {
        out.push(item(entry, [...loc, index], issues));
      } catch (error) {
        if (!(error instanceof FieldError)) throw error;
        issues.push({ loc: [...loc, index], ...error.issue });
      }
    });
    if (issues.length > before) return out;
    if (bounds.minItems !== undefined && out.length < bounds.minItems) {
      throw issue(`ensure this value has at least ${bounds.minItems} items`, 'value_error.list.min_items', { limit_value: bounds.minItems });
    }
    if (bounds.maxItems !== undefined && out.length > bounds.maxItems) {
      throw issue(`ensure this value has at most ${bounds.maxItems} items`, 'value_error.list.max_items', { limit_value: bounds.maxItems });
    }
    return out;
  };
}

function bounded(n: number, bounds: { ge?: number; le?: number }): void {
  if (bounds.ge !== undefined && !(n >= bounds.ge)) {
    throw issue(`ensure this value is greater than or equal to ${bounds.ge}`, 'value_error.number.not_ge', { limit_value: bounds.ge });
  }
  if (bounds.le !== undefined && !(n <= bounds.le)) {
    throw issue(`ensure this value is less than or equal to ${bounds.le}`, 'value_error.number.not_le', { limit_value: bounds.le });
  }
}

// What Python's str.strip() strips (str.isspace): not JavaScript's trim(), which also strips U+FEFF and keeps U+001C-U+001F and U+0085.
const pythonSpace = '[ \\t\\n\\r\\x0b\\x0c\\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const pythonStrip = new RegExp(`^${pythonSpace}+|${pythonSpace}+$`, 'gu');

/** The value of a Unicode decimal digit (category Nd): Unicode keeps each script's digits as one run of ten, zero first. */
function digitValue(digit: string): number {
  let codePoint = digit.codePointAt(0)!;
  let offset = 0;
  while (offset < 10 && /^\p{Nd}$/u.test(String.fromCodePoint(codePoint - 1))) {
    codePoint -= 1;
    offset += 1;
  }
  return offset % 10;
}

/** Python's int() of a str, as pydantic v1 applies it: whitespace, a sign, underscores between digits, and any script's decimal digits ('１' is 1). */
export function parsePythonInt(text: string): number | undefined {
  const trimmed = text.replace(pythonStrip, '');
  if (!/^[+-]?\p{Nd}+(_\p{Nd}+)*$/u.test(trimmed)) return undefined;
  const ascii = [...trimmed].map((char) => (/^\p{Nd}$/u.test(char) ? String(digitValue(char)) : char)).join('');
  // -0 is 0 to Python.
  return Number(ascii.replace(/_/g, '')) + 0;
}

/** `int` / `conint(ge, le)`. */
export function int(bounds: { ge?: number; le?: number } = {}): Validator {
  return (value) => {
    let n: number | undefined;
    if (typeof value === 'number') n = value;
    else if (typeof value === 'boolean') n = value ? 1 : 0;
    else if (value instanceof PyFloat && Number.isFinite(value.value)) n = Math.trunc(value.value);
    else if (typeof value === 'string') n = parsePythonInt(value);
    if (n === undefined) throw issue('value is not a valid integer', 'type_error.integer');
    bounded(n, bounds);
    return n;
  };
}

const BOOL_TRUE = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const BOOL_FALSE = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

/** `bool`: true/false, 0/1, and pydantic's words for them in any case. */
export const bool: Validator = (value) => {
  if (typeof value === 'boolean') return value;
  const key = typeof value === 'string' ? value.toLowerCase() : typeof value === 'number' && (value === 0 || value === 1) ? String(value) : undefined;
  if (key !== undefined && BOOL_TRUE.has(key)) return true;
  if (key !== undefined && BOOL_FALSE.has(key)) return false;
  throw issue('value could not be parsed to a boolean', 'type_error.bool');
};

/** `float` / `confloat(ge, le)`; the value stays a Python float. */
export function float(bounds: { ge?: number; le?: number } = {}): Validator {
  return (value) => {
    let n: number | undefined;
    if (typeof value === 'number') n = value;
    else if (typeof value === 'boolean') n = value ? 1 : 0;
    else if (value instanceof PyFloat) n = value.value;
    else if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value.trim()))) n = Number(value.trim());
    if (n === undefined) throw issue('value is not a valid float', 'type_error.float');
    bounded(n, bounds);
    return new PyFloat(n);
  };
}

const DAY_MICROS = 86_400_000_000;
const isoDay = (y: number, m: number, d: number) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

/**
 * pydantic v1's parse_date of a number (a JSON number, a bool, or a str float() reads): Unix
 * seconds, or milliseconds past 2e10 (divided until they are not), as a UTC day; beyond ±3e20
 * the last or first day; NaN fails in timedelta().
 */
function dateOfUnixSeconds(seconds: number): string {
  if (Number.isNaN(seconds)) throw issue('cannot convert float NaN to integer', 'value_error');
  if (seconds > 3e20) return '9999-12-31';
  if (seconds < -3e20) return '0001-01-01';
  let s = seconds;
  while (Math.abs(s) > 2e10) s /= 1000;
  // timedelta(seconds=s) keeps whole microseconds; the day is the one that instant falls in.
  const day = new Date(Math.floor(Math.round(s * 1e6) / DAY_MICROS) * 86_400_000);
  return isoDay(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate());
}

/** `datetime.date` (pydantic v1's parse_date): an ISO `YYYY-MM-DD` string, or a number as Unix time; kept as ISO text. */
export const date: Validator = (value) => {
  const number = typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : value instanceof PyFloat ? value.value : typeof value === 'string' ? pythonFloat(value) : undefined;
  if (number !== undefined) return dateOfUnixSeconds(number);
  if (typeof value !== 'string') throw issue('invalid type; expected date, string, bytes, int or float', 'type_error');
  // Python's `$` also matches before one final newline.
  const match = /^(\d{4})-(\d{1,2})-(\d{1,2})\n?$/.exec(value);
  if (match) {
    const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const probe = new Date(Date.UTC(y, m - 1, d));
    if (y >= 1 && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d) return isoDay(y, m, d);
  }
  throw issue('invalid date format', 'value_error.date');
};

/** A @validator raising ValueError(message) when `check` says so. */
export function checked(base: Validator, check: (value: PyValue) => string | undefined): Validator {
  return (value, loc, issues) => {
    const out = base(value, loc, issues);
    const message = check(out);
    if (message !== undefined) throw issue(message, 'value_error');
    return out;
  };
}

/** A nested model field. */
export function nested(model: ModelSpec): Validator {
  return (value, loc, issues) => {
    const result = validateModel(model, value, loc, issues);
    return result ? ({ __model: true, ...result } as unknown as PyValue) : null;
  };
}

/** `constr(max_length=n)`: a str (with str's coercions) of at most n characters. */
export function constr(bounds: { maxLength?: number }): Validator {
  return (value, loc, issues) => {
    const out = str(value, loc, issues) as string;
    if (bounds.maxLength !== undefined && [...out].length > bounds.maxLength) {
      throw issue(`ensure this value has at most ${bounds.maxLength} characters`, 'value_error.any_str.max_length', { limit_value: bounds.maxLength });
    }
    return out;
  };
}
