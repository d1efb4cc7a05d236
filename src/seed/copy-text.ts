/**
 * PostgreSQL COPY text format: tab-separated, `\N` for NULL, backslash escapes for the
 * characters that would break a row. Rows are batched into ~64 KB strings so the stream
 * moves few, large chunks while memory stays bounded whatever the county size.
 */
const needsEscape = /[\\\t\n\r]/;

export function copyText(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  if (!needsEscape.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : '\\r'));
}

export function copyRow(values: ReadonlyArray<string | number | null>): string {
  let line = copyText(values[0] ?? null);
  for (let k = 1; k < values.length; k++) line += '\t' + copyText(values[k]!);
  return line + '\n';
}

/** Joins rows into chunks of about `size` characters. */
export function* batched(rows: Iterable<string>, size = 1 << 16): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += row;
    if (chunk.length >= size) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** Money as numeric(14,2) text from whole dollars. */
export function money(dollars: number): string {
  return `${dollars}.00`;
}
