/**
 * Reproduces the error CPython 3.11's json module (the C scanner, Modules/_json.c, and
 * JSONDecoder.decode) raises for a document it refuses: the message and the position, in
 * code points, exactly as legacy's 422 `value_error.jsondecode` reports them ("Expecting
 * property name enclosed in double quotes", "Unterminated string starting at", "Expecting
 * ',' delimiter", "Extra data"...). Found by `cutover fuzz` (malformed-json counterexamples:
 * the reimplementation said "Expecting value" at its own parser's position for all of them).
 */

export interface PyJsonError {
  msg: string;
  /** Index in code points (Python str indices). */
  pos: number;
}

class Stop {
  constructor(readonly error: PyJsonError) {}
}

const isWhitespace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const escapes = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** The error Python's json.loads raises for `doc`, or undefined when Python would accept it. */
export function pythonJsonError(doc: string): PyJsonError | undefined {
  const s = [...doc];
  const fail = (msg: string, pos: number): never => {
    throw new Stop({ msg, pos });
  };
  const skip = (idx: number) => {
    while (idx < s.length && isWhitespace(s[idx])) idx++;
    return idx;
  };

  const string = (start: number): number => {
    // start: just after the opening quote.
    const begin = start - 1;
    let next = start;
    for (;;) {
      while (next < s.length && s[next] !== '"' && s[next] !== '\\') {
        if (s[next]!.codePointAt(0)! <= 0x1f) fail('Invalid control character at', next);
        next++;
      }
      if (next >= s.length) fail('Unterminated string starting at', begin);
      if (s[next] === '"') return next + 1;
      next++;
      if (next >= s.length) fail('Unterminated string starting at', begin);
      if (s[next] !== 'u') {
        if (!escapes.has(s[next]!)) fail('Invalid \\escape', next - 1);
        next++;
        continue;
      }
      next++;
      if (next + 4 >= s.length) fail('Invalid \\uXXXX escape', next - 1);
      for (let k = 0; k < 4; k++) if (!isHex(s[next + k])) fail('Invalid \\uXXXX escape', next - 1);
      next += 4;
    }
  };

  const number = (idx: number): number => {
    const start = idx;
    if (s[idx] === '-') {
      idx++;
      if (idx >= s.length) fail('Expecting value', start);
    }
    if (s[idx]! >= '1' && s[idx]! <= '9') {
      idx++;
      while (isDigit(s[idx])) idx++;
    } else if (s[idx] === '0') idx++;
    else fail('Expecting value', start);
    if (idx < s.length - 1 && s[idx] === '.' && isDigit(s[idx + 1])) {
      idx += 2;
      while (isDigit(s[idx])) idx++;
    }
    if (idx < s.length - 1 && (s[idx] === 'e' || s[idx] === 'E')) {
      const eStart = idx;
      idx++;
      if (idx < s.length - 1 && (s[idx] === '-' || s[idx] === '+')) idx++;
      while (isDigit(s[idx])) idx++;
      if (!isDigit(s[idx - 1])) idx = eStart;
    }
    return idx;
  };

  const word = (idx: number, text: string) => s.slice(idx, idx + text.length).join('') === text;

  const value = (idx: number): number => {
    if (idx >= s.length) fail('Expecting value', idx);
    const c = s[idx];
    if (c === '"') return string(idx + 1);
    if (c === '{') return object(idx + 1);
    if (c === '[') return array(idx + 1);
    for (const constant of ['null', 'true', 'false', 'NaN', 'Infinity', '-Infinity']) if (word(idx, constant)) return idx + constant.length;
    return number(idx);
  };

  const object = (idx: number): number => {
    idx = skip(idx);
    if (s[idx] === '}') return idx + 1;
    for (;;) {
      if (s[idx] !== '"') fail('Expecting property name enclosed in double quotes', idx);
      idx = skip(string(idx + 1));
      if (s[idx] !== ':') fail("Expecting ':' delimiter", idx);
      idx = skip(value(skip(idx + 1)));
      if (s[idx] === '}') return idx + 1;
      if (s[idx] !== ',') fail("Expecting ',' delimiter", idx);
      idx = skip(idx + 1);
    }
  };

  const array = (idx: number): number => {
    idx = skip(idx);
    if (s[idx] === ']') return idx + 1;
    for (;;) {
      idx = skip(value(idx));
      if (s[idx] === ']') return idx + 1;
      if (s[idx] !== ',') fail("Expecting ',' delimiter", idx);
      idx = skip(idx + 1);
    }
  };

  try {
    const end = skip(value(skip(0)));
    return end === s.length ? undefined : { msg: 'Extra data', pos: end };
  } catch (error) {
    if (error instanceof Stop) return error.error;
    throw error;
  }
}
