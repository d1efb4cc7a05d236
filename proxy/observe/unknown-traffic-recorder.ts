/**
 * Where unknown traffic is counted: requests no catalogued route matched (already forwarded
 * to legacy) are aggregated in memory per service, method and path, and flushed to the
 * UnknownTrafficStore (src/report/unknown-traffic.ts) in one batch per interval, so the
 * report can list them. Bounded: past `maxKeys` distinct paths per interval, further new
 * paths are folded into one `(other)` entry rather than growing memory. Paths are redacted
 * (a token or a JWT in a path segment) before they are counted, so they are never stored.
 */
import type { Redactor } from '../../parity/compare/redact.js';
import type { UnknownRequest, UnknownTrafficStore } from '../../src/report/unknown-traffic.js';

export const otherPaths = '(other)';

export class UnknownTrafficRecorder {
  private pending = new Map<string, UnknownRequest>();
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: UnknownTrafficStore | undefined,
    flushIntervalMs: number,
    private readonly redactor?: Redactor,
    private readonly maxKeys = 1000,
  ) {
    this.timer = setInterval(() => void this.flush(), flushIntervalMs);
    this.timer.unref();
  }

  /** Counts one unknown request (`url` may carry a query string; it is left out). */
  count(service: string, method: string, url: string): void {
    if (!this.store) return;
    const query = url.indexOf('?');
    const bare = query === -1 ? url : url.slice(0, query);
    let path = this.redactor ? this.redactor.path(bare) : bare;
    let key = `${service} ${method} ${path}`;
    if (!this.pending.has(key) && this.pending.size >= this.maxKeys) {
      path = otherPaths;
      key = `${service} ${method} ${path}`;
    }
    const entry = this.pending.get(key);
    if (entry) {
      entry.count++;
      entry.at = new Date();
    } else {
      this.pending.set(key, { service, method, path, at: new Date(), count: 1 });
    }
  }

  /** Writes what was counted so far; a failed write is dropped (the counts are also in the metrics). */
  flush(): Promise<void> {
    if (!this.store || this.pending.size === 0) return this.writing;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    const store = this.store;
    this.writing = this.writing.then(() => store.record(batch)).catch(() => undefined);
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
