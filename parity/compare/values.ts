/**
 * What a JSON value is, for comparators and noise checks: its JSON type, and the domain kind
 * a string or number has (a uuid, a timestamp in some format, an integer) — the kind a noisy
 * field must keep even when its value may differ.
 */
import { JsonNumber, type JsonValue } from './json-text.js';

export type JsonType = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

export function jsonType(value: JsonValue): JsonType {
  if (value === null) return 'null';
  if (value instanceof JsonNumber) return 'number';
  if (Array.isArray(value)) return 'array';
  return typeof value as 'boolean' | 'string' | 'object';
}

export type ValueKind = 'uuid' | 'timestamp' | 'integer' | 'number' | 'string' | 'boolean' | 'null' | 'array' | 'object';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const timestampPattern = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;
const integerText = /^-?\d+$/;

export function isUuid(text: string): boolean {
  return text.length === 36 && uuidPattern.test(text);
}

/** The domain kind of a value: uuid and timestamp strings, integer numbers (as written: `1.0` is not an integer). */
export function valueKind(value: JsonValue): ValueKind {
  if (value instanceof JsonNumber) return integerText.test(value.text) ? 'integer' : 'number';
  if (typeof value === 'string') {
    if (isUuid(value)) return 'uuid';
    if (timestampPattern.test(value)) return 'timestamp';
    return 'string';
  }
  return jsonType(value) as ValueKind;
}

export interface ParsedTimestamp {
  /** Milliseconds since the epoch, fractional (microseconds kept); a naive timestamp is read as UTC. */
  epochMs: number;
  /** The shape it is written in, digits as 9: `9999-99-99T99:99:99.999999` (naive, microseconds) vs `…+99:99` (zoned). */
  format: string;
  zoned: boolean;
}

/** Reads an ISO-8601 timestamp as Python's isoformat() and JavaScript's toISOString() write them; undefined otherwise. */
export function parseTimestamp(text: string): ParsedTimestamp | undefined {
  const match = timestampPattern.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  let epochMs = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second ?? 0));
  if (Number.isNaN(epochMs)) return undefined;
  if (fraction) epochMs += Number(fraction) * 1000;
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    epochMs -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return { epochMs, format: text.replace(/\d/g, '9'), zoned: zone !== undefined };
}

const renderLimit = 500;

/** JSON text of a value, numbers as written; cut at a bound so one huge subtree cannot bloat a difference. */
export function renderValue(value: JsonValue): string {
  const text = renderFull(value);
  return text.length > renderLimit ? `${text.slice(0, renderLimit)}…` : text;
}

/** JSON text of a value, numbers as written, keys in document order. */
export function renderFull(value: JsonValue): string {
  if (value instanceof JsonNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(renderFull).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}:${renderFull(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** JSON text with keys sorted: equal for values a structural comparison calls equal (numbers as written). */
export function canonical(value: JsonValue): string {
  if (value instanceof JsonNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical(value[key]!)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
