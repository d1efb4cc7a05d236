/** The few HTTP helpers the stand-in's routes share. */
import type { ServerResponse } from 'node:http';

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body parsed as JSON; null when it is empty or not JSON. */
export function parseJson(body: string): unknown {
  if (body.trim() === '') return null;
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

/** Ollama's model names: a name without a tag means `:latest`. */
export function withTag(name: string): string {
  return name.includes(':') ? name : `${name}:latest`;
}
