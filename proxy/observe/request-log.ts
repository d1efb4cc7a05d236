/**
 * One log entry per served request (`cutover proxy --log-format json`), from either serving
 * path: the request's id, route, flag mode, the side that served it, its status or failure
 * code, and the upstream time. The id is the client's `x-request-id` when it sent one (a load
 * balancer in front usually does), else one made for the entry.
 */
import { randomUUID } from 'node:crypto';
import type { SideResult } from '../serving/capture.js';
import type { Decision } from '../serving/decide.js';

export interface RequestLogEntry {
  requestId: string;
  service: string;
  route: string;
  method: string;
  path: string;
  mode: string;
  servedBy: string;
  /** The serving side's status; absent when it failed (then `failure` holds its code). */
  status?: number;
  failure?: string;
  latencyMs: number;
}

export type RequestLog = (entry: RequestLogEntry) => void;

/** The value of `x-request-id` in a flat [name, value, ...] header list, or a new id. */
export function requestIdOf(rawHeaders: readonly string[]): string {
  for (let index = 0; index < rawHeaders.length - 1; index += 2) {
    if (rawHeaders[index]!.toLowerCase() === 'x-request-id') return rawHeaders[index + 1]!;
  }
  return randomUUID();
}

/** The entry of one served request. */
export function requestLogEntry(
  request: { service: string; route: string; method: string; path: string; rawHeaders: readonly string[] },
  decision: Decision,
  result: SideResult,
): RequestLogEntry {
  return {
    requestId: requestIdOf(request.rawHeaders),
    service: request.service,
    route: request.route,
    method: request.method,
    path: request.path,
    mode: decision.mode,
    servedBy: decision.serving,
    ...(result.status === undefined ? {} : { status: result.status }),
    ...(result.failure ? { failure: result.failure.code } : {}),
    latencyMs: Math.round(result.latencyMs * 10) / 10,
  };
}
