/**
 * Numbers as GDAL 3.6's text drivers print them, so the TypeScript writers produce the bytes
 * legacy's OGR writers produce (legacy terrafusion_sync/gis/writers.py through GDAL). Each
 * function returns undefined where the emulation is not certain (a `...9999x` tail GDAL would
 * round, values past 1e21, exact decimal ties); the caller then leaves the job to GDAL.
 */

/** Trailing zeros of a fraction cut, and the point with them (`%g` does this; `1.500` → `1.5`, `2.00` → `2`). */
function stripFraction(text: string): string {
  if (text.indexOf('.') < 0) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48) end--;
  if (text.charCodeAt(end - 1) === 46) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** C's `%.<precision>g` (trailing zeros stripped, exponent of at least two digits). */
export function cFormatG(value: number, precision: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const abs = Math.abs(value);
  // Where %g prints plain (exponent -4 .. precision-1), toPrecision does too (it switches at
  // -6 and precision) with the same correctly rounded digits: one conversion, not two. An abs
  // just under a power of ten may round up into the next decade: left to the general path.
  if (abs >= 1e-4 && abs < 10 ** (precision - 1)) return stripFraction(value.toPrecision(precision));
  const exponential = value.toExponential(precision - 1);
  const at = exponential.indexOf('e');
  const exponent = Number(exponential.slice(at + 1));
  if (exponent < -4 || exponent >= precision) {
    let mantissa = exponential.slice(0, at);
    if (mantissa.includes('.')) mantissa = mantissa.replace(/\.?0+$/, '');
    const digits = String(Math.abs(exponent)).padStart(2, '0');
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${digits}`;
  }
  const fixed = value.toFixed(precision - 1 - exponent);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

const SAFE = 1e21;

function suspicious(text: string): boolean {
  const dot = text.indexOf('.');
  return dot >= 0 && (text.includes('0000', dot) || text.includes('9999', dot));
}

/** True when the characters of `s` from `from` to `to` (inclusive) are all `code`. */
function run(s: string, code: number, from: number, to: number): boolean {
  for (let k = from; k <= to; k++) if (s.charCodeAt(k) !== code) return false;
  return true;
}

/** intelliround's long run: eight of `code` before the last digit, fewer when more digits precede the point (`counted`). */
function longRun(s: string, code: number, counted: number): boolean {
  const length = s.length;
  return (counted >= 4 || s.charCodeAt(length - 3) === code) && (counted >= 5 || s.charCodeAt(length - 4) === code) &&
    (counted >= 6 || s.charCodeAt(length - 5) === code) && (counted >= 7 || s.charCodeAt(length - 6) === code) &&
    (counted >= 8 || s.charCodeAt(length - 7) === code) && s.charCodeAt(length - 8) === code && s.charCodeAt(length - 9) === code;
}

/**
 * `%.15g` without printf: when the shortest round-trip text has at most 15 significant digits
 * it is also the nearest 15-digit decimal, and between 1e-4 and 1e15 both use plain notation.
 */
function shortG15(value: number): string | undefined {
  const abs = Math.abs(value);
  if (!(abs >= 1e-4 && abs < 1e15)) return undefined;
  const text = String(value);
  let digits = 0;
  let leading = true;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c < 48 || c > 57) continue;
    if (leading && c === 48) continue;
    leading = false;
    digits++;
  }
  return digits <= 15 ? text : undefined;
}

/**
 * A real attribute in the GeoJSON driver (json-c with significant figures): `%.17g`, retried
 * at 16, 15, 14 digits while the fraction shows `0000` or `9999`, `.0` added to integers.
 */
export function geoJsonReal(value: number): string | undefined {
  if (!Number.isFinite(value) || Math.abs(value) >= SAFE) return undefined;
  // %.17g of an integer below 1e15 is its digits.
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return Object.is(value, -0) ? '-0.0' : `${value}.0`;
  let text = cFormatG(value, 17);
  if (suspicious(text)) {
    let ok = false;
    for (let digits = 16; digits >= 14; digits--) {
      const retry = cFormatG(value, digits);
      if (retry.includes('.') && !suspicious(retry)) {
        text = retry;
        ok = true;
        break;
      }
    }
    if (!ok) text = cFormatG(value, 17);
  }
  if (!text.includes('.') && !text.includes('e')) text += '.0';
  return text;
}

/**
 * OGR's fixed-precision double (GeoJSON coordinates, and WKT coordinates below 1): `%.15f`,
 * then GDAL 3.6's `intelliround` on that untrimmed text, then trailing zeros trimmed to one.
 * intelliround, as GDAL has it: a `00000x` tail loses its last digit; else a run of eight zeros
 * (fewer needed with more digits before the point — GDAL counts them one short) is cut; else a
 * `99999x` tail is cut and the digit before it rounded up; else the same eight-nines run is cut
 * and rounded up. Checked against GDAL's own GeoJSON output (tests/reimpl/gdal-number-text.test.ts).
 */
export function fixed15(value: number, precision = 15): string | undefined {
  if (!Number.isFinite(value) || Math.abs(value) >= SAFE || precision < 1) return undefined;
  // An exact tie past the last decimal rounds half-even in C and up in JS.
  const scaled = value * 10 ** precision;
  if (Math.abs(scaled) < 2 ** 52 && scaled - Math.trunc(scaled) === 0.5) return undefined;
  let s = value.toFixed(precision);
  const length = s.length;
  if (length > 10) {
    const dot = s.indexOf('.');
    const counted = dot - 1 - (s.charCodeAt(0) === 45 ? 1 : 0);
    if (run(s, 48, length - 6, length - 2)) s = s.slice(0, length - 1);
    else if (dot < length - 8 && longRun(s, 48, counted)) s = s.slice(0, length - 8);
    else if (run(s, 57, length - 6, length - 2)) s = roundUpLastDigit(s.slice(0, length - 6));
    else if (dot < length - 9 && longRun(s, 57, counted)) s = roundUpLastDigit(s.slice(0, length - 9));
  }
  return trimZeros(s);
}

/** Adds one unit in the last place of a decimal string, carrying through nines (`1.299` → `1.300`). */
function roundUpLastDigit(text: string): string {
  let suffix = '';
  for (let at = text.length - 1; at >= 0; at--) {
    const code = text.charCodeAt(at);
    if (code === 45) break; // '-': only ever first
    if (code === 46) suffix = `.${suffix}`;
    else if (code !== 57) return text.slice(0, at) + String.fromCharCode(code + 1) + suffix;
    else suffix = `0${suffix}`;
  }
  return text.charCodeAt(0) === 45 ? `-1${suffix}` : `1${suffix}`;
}

/** Trailing zeros of the fraction cut, one kept after the point (`1.500` → `1.5`, `2.000` → `2.0`). */
function trimZeros(text: string): string {
  let end = text.length;
  while (end > 2 && text[end - 1] === '0' && text[end - 2] !== '.') end--;
  return text.slice(0, end);
}

/**
 * `print`, remembering the text of the last few thousand values: adjacent parcels share most
 * vertices (85% of a 20k-parcel county's coordinates were printed within the last 4,096 values
 * before), so most coordinates are looked up instead of converted. Zero is never kept (a Map
 * does not tell -0 from 0), nor a value `print` refuses.
 */
function remembered(print: (value: number) => string | undefined, capacity = 4096): (value: number) => string | undefined {
  let texts = new Map<number, string>();
  return (value) => {
    let text = texts.get(value);
    if (text !== undefined) return text;
    text = print(value);
    if (text === undefined || value === 0) return text;
    if (texts.size >= capacity) texts = new Map();
    texts.set(value, text);
    return text;
  };
}

/** A GeoJSON coordinate. */
export const geoJsonCoordinate = remembered((value) => fixed15(value));

/** A WKT coordinate (OGRFormatDouble default: fixed below 1, `%.15G` otherwise). */
export const wktCoordinate = remembered((value) => {
  if (Math.abs(value) < 1) return fixed15(value);
  if (!Number.isFinite(value)) return undefined;
  return shortG15(value) ?? cFormatG(value, 15).toUpperCase();
});

/** OGR's GetFieldAsString of a real field (`%.15g`), as the CSV driver writes it. */
export function ogrRealText(value: number): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  return shortG15(value) ?? cFormatG(value, 15);
}

/**
 * OGR's SetField(double) on a string field (`%.16g`), as KML's shifted fields get a real in a
 * string column. An exact decimal tie at the 17th digit rounds half-even in C and up in JS:
 * refused when the 17th digit is a 5.
 */
export function ogrRealAsString(value: number): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  const short = shortG15(value);
  if (short !== undefined && Number.isInteger(value)) return short;
  const seventeen = value.toExponential(16);
  if (seventeen[seventeen.indexOf('e') - 1] === '5') return undefined;
  return cFormatG(value, 16);
}

/** OGR's SetField(double) on a 32-bit integer field: truncated toward zero, clamped. */
export function ogrRealAsInteger(value: number): number | undefined {
  if (Number.isNaN(value)) return undefined;
  return Math.min(2147483647, Math.max(-2147483648, Math.trunc(value))) + 0;
}

const LEADING_NUMBER = /^[ \t\n\r\f\v]*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/;

/** OGR's SetField(string) on a real field: CPLStrtod's leading number, 0 when none; undefined where CPLStrtod reads more (inf, nan, hex). */
export function ogrStringAsReal(text: string): number | undefined {
  if (/^[\s+-]*(inf|nan|0x|1\.#)/i.test(text)) return undefined;
  const match = LEADING_NUMBER.exec(text);
  if (!match) return 0;
  const value = Number(match[1]);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * A double as GDAL 3.6 stores gpkg_contents' extent: through Debian's SQLite 3.40
 * `sqlite3_mprintf("%.18g")`, which rounds at the 18th significant digit but prints only 16
 * (SQLite before 3.43 extracts at most 16 digits), so -120.4738354 is stored as
 * -120.4738353999999.
 */
export function sqlite340Printf18g(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const text = value.toExponential(17);
  const at = text.indexOf('e');
  const negative = text[0] === '-';
  const digits = text.slice(negative ? 1 : 0, at).replace('.', '');
  return Number(`${negative ? '-' : ''}${digits[0]}.${digits.slice(1, 16)}e${text.slice(at + 1)}`);
}
