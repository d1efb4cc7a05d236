/**
 * Numbers as GDAL 3.6's text drivers print them, so the TypeScript writers produce the bytes
 * legacy's OGR writers produce (legacy terrafusion_sync/gis/writers.py through GDAL). Each
 * function returns undefined where the emulation is not certain (a `...9999x` tail GDAL would
 * round, values past 1e21, exact decimal ties); the caller then leaves the job to GDAL.
 */

/** C's `%.<precision>g` (trailing zeros stripped, exponent of at least two digits). */
export function cFormatG(value: number, precision: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
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

function run(s: string, ch: string, from: number, to: number): boolean {
  for (let k = from; k <= to; k++) if (s[k] !== ch) return false;
  return true;
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
    const counted = dot - 1 - (s[0] === '-' ? 1 : 0);
    const tail = (from: number, to: number, digit: string) => run(s, digit, length - to, length - from);
    const longRun = (digit: string) =>
      (counted >= 4 || s[length - 3] === digit) && (counted >= 5 || s[length - 4] === digit) && (counted >= 6 || s[length - 5] === digit) &&
      (counted >= 7 || s[length - 6] === digit) && (counted >= 8 || s[length - 7] === digit) && s[length - 8] === digit && s[length - 9] === digit;
    if (tail(2, 6, '0')) s = s.slice(0, length - 1);
    else if (dot < length - 8 && longRun('0')) s = s.slice(0, length - 8);
    else if (tail(2, 6, '9')) s = roundUpLastDigit(s.slice(0, length - 6));
    else if (dot < length - 9 && longRun('9')) s = roundUpLastDigit(s.slice(0, length - 9));
  }
  return trimZeros(s);
}

/** Adds one unit in the last place of a decimal string, carrying through nines (`1.299` → `1.300`). */
function roundUpLastDigit(text: string): string {
  const digits = text.split('');
  for (let at = digits.length - 1; at >= 0; at--) {
    const digit = digits[at]!;
    if (digit === '.' || digit === '-') continue;
    if (digit !== '9') {
      digits[at] = String(Number(digit) + 1);
      return digits.join('');
    }
    digits[at] = '0';
  }
  return text.startsWith('-') ? `-1${digits.join('').slice(1)}` : `1${digits.join('')}`;
}

/** Trailing zeros of the fraction cut, one kept after the point (`1.500` → `1.5`, `2.000` → `2.0`). */
function trimZeros(text: string): string {
  let end = text.length;
  while (end > 2 && text[end - 1] === '0' && text[end - 2] !== '.') end--;
  return text.slice(0, end);
}

/** A GeoJSON coordinate. */
export const geoJsonCoordinate = fixed15;

/** A WKT coordinate (OGRFormatDouble default: fixed below 1, `%.15G` otherwise). */
export function wktCoordinate(value: number): string | undefined {
  if (Math.abs(value) < 1) return fixed15(value);
  if (!Number.isFinite(value)) return undefined;
  return shortG15(value) ?? cFormatG(value, 15).toUpperCase();
}

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
