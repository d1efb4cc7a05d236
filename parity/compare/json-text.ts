/**
 * A JSON reader for comparisons that keeps each number's text: `1.0` and `1` are the same to
 * JSON.parse but not to a client (Python serialises floats as `1.0`), and the parity check
 * must see the difference.
 */

/** A number as written in the document. */
export class JsonNumber {
  constructor(readonly text: string) {}
  toJSON(): number {
    return Number(this.text);
  }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | { [key: string]: JsonValue };

const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Parses JSON text; throws SyntaxError on anything that is not exactly one JSON value. */
export function parseJsonText(text: string): JsonValue {
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at offset ${at}`);
  };
  const space = () => {
    while (at < text.length) {
      const c = text.charCodeAt(at);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
      else break;
    }
  };
  const string = (): string => {
    // Most strings have no escapes: slice them (after checking for raw control characters,
    // which JSON forbids); only a string with a backslash goes through JSON.parse to decode it.
    const close = text.indexOf('"', at + 1);
    if (close === -1) fail('unterminated string');
    const backslash = text.indexOf('\\', at + 1);
    if (backslash === -1 || backslash > close) {
      for (let i = at + 1; i < close; i++) if (text.charCodeAt(i) < 0x20) fail('control character in string');
      const plain = text.slice(at + 1, close);
      at = close + 1;
      return plain;
    }
    let end = at + 1;
    while (end < text.length && text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c ? 2 : 1;
    if (end >= text.length) fail('unterminated string');
    const literal = text.slice(at, end + 1);
    at = end + 1;
    return JSON.parse(literal) as string;
  };
  const value = (): JsonValue => {
    space();
    const c = text[at];
    if (c === '{') {
      at++;
      const object: { [key: string]: JsonValue } = {};
      space();
      if (text[at] === '}') {
        at++;
        return object;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail('expected a key');
        const key = string();
        space();
        if (text[at++] !== ':') fail('expected ":"');
        object[key] = value();
        space();
        const next = text[at++];
        if (next === '}') return object;
        if (next !== ',') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      at++;
      const array: JsonValue[] = [];
      space();
      if (text[at] === ']') {
        at++;
        return array;
      }
      for (;;) {
        array.push(value());
        space();
        const next = text[at++];
        if (next === ']') return array;
        if (next !== ',') fail('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', at)) return (at += 4), true;
    if (text.startsWith('false', at)) return (at += 5), false;
    if (text.startsWith('null', at)) return (at += 4), null;
    numberPattern.lastIndex = at;
    const match = numberPattern.exec(text);
    if (!match) return fail('unexpected character');
    at += match[0].length;
    return new JsonNumber(match[0]);
  };
  const result = value();
  space();
  if (at !== text.length) fail('unexpected text after the value');
  return result;
}
