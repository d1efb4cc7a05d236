/**
 * Flask 2.2's `jsonify` and the legacy gateway's error bodies (legacy/terrafusion_gateway/errors.py):
 * keys sorted at every level, compact separators, non-ASCII as \uXXXX, a trailing newline,
 * `Content-Type: application/json`.
 */
import type { FastifyReply } from 'fastify';
import { floatRepr, PyFloat, stringLiteral, type PyValue } from '../shared/py-json.js';

function write(value: PyValue | undefined): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return stringLiteral(value, true);
    case 'number':
      return Number.isInteger(value) ? String(value) : floatRepr(value);
    case 'boolean':
      return value ? 'true' : 'false';
  }
  if (value instanceof PyFloat) return floatRepr(value.value);
  if (Array.isArray(value)) return `[${value.map(write).join(',')}]`;
  const record = value as Record<string, PyValue | undefined>;
  return `{${Object.keys(record)
    .sort()
    .map((key) => `${stringLiteral(key, true)}:${write(record[key])}`)
    .join(',')}}`;
}

/** The body `jsonify(value)` sends. */
export function flaskJson(value: PyValue): string {
  return `${write(value)}\n`;
}

export function sendJsonify(reply: FastifyReply, status: number, value: PyValue): FastifyReply {
  // A Buffer, so fastify does not append `; charset=utf-8` to Flask's bare application/json.
  return reply.code(status).header('content-type', 'application/json').send(Buffer.from(flaskJson(value), 'utf8'));
}

/** `{"error", "message"}` (message left out when undefined), as legacy's json_error. */
export function sendJsonError(reply: FastifyReply, status: number, error: string, message?: string): FastifyReply {
  return sendJsonify(reply, status, message === undefined ? { error } : { error, message });
}
