/**
 * pydantic v1's `datetime` of a string (pydantic/datetime_parse.py, 1.10), as a query
 * parameter sees it: a number (Python's float() syntax) is Unix seconds, or milliseconds
 * past 2e10, and zone-aware UTC; beyond ±3e20 (and ±inf) it is datetime.max / datetime.min,
 * naive; NaN fails in timedelta(); otherwise `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]`.
 * Only ASCII digits are read (Python's `\d` also takes other scripts' digits).
 */
import { issue, type Validator } from './pydantic-v1.js';
import { pythonFloat } from './python-float.js';

/** A parsed datetime: naive ISO text as isoformat() writes it, or a zone-aware instant. */
export type PyDatetime = { aware: false; iso: string } | { aware: true };

// Python's `$` also matches before one final newline.
const DATETIME = /^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6})\d{0,6})?)?(Z|[+-]\d{2}(?::?\d{2})?)?\n?$/;
export const MAX_NUMBER = 3e20;
const MAX = { aware: false, iso: '9999-12-31T23:59:59.999999' } as const;
const MIN = { aware: false, iso: '0001-01-01T00:00:00' } as const;

const invalid = () => issue('invalid datetime format', 'value_error.datetime');

// Date.UTC reads years 0-99 as 1900-1999, which have the same leap years as 1-99.
const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** parse_datetime(text); throws the FieldError pydantic reports. */
export function parsePyDatetime(text: string): PyDatetime {
  const number = pythonFloat(text);
  if (number !== undefined) {
    if (Number.isNaN(number)) throw issue('cannot convert float NaN to integer', 'value_error');
    if (number > MAX_NUMBER) return MAX;
    if (number < -MAX_NUMBER) return MIN;
    return { aware: true };
  }
  const match = DATETIME.exec(text);
  if (!match) throw invalid();
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => (part === undefined ? 0 : Number(part))) as number[];
  const tz = match[8];
  if (tz !== undefined && tz !== 'Z') {
    const minutes = 60 * Number(tz.slice(1, 3)) + (tz.length > 3 ? Number(tz.slice(-2)) : 0);
    // timezone() takes offsets strictly inside one day.
    if (minutes >= 24 * 60) throw invalid();
  }
  if (year! < 1 || month! < 1 || month! > 12 || day! < 1 || day! > daysIn(year!, month!) || hour! > 23 || minute! > 59 || second! > 59) throw invalid();
  if (tz !== undefined) return { aware: true };
  const micros = match[7] === undefined ? 0 : Number(match[7].padEnd(6, '0'));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const base = `${pad(year!, 4)}-${pad(month!)}-${pad(day!)}T${pad(hour!)}:${pad(minute!)}:${pad(second!)}`;
  return { aware: false, iso: micros === 0 ? base : `${base}.${pad(micros, 6)}` };
}

/** `datetime` as a validator of query values (always strings); the value is a PyDatetime. */
export const datetime: Validator = (value) => {
  if (typeof value !== 'string') throw invalid();
  return parsePyDatetime(value);
};
