/**
 * The flag store: route flags, the kill switch and their audit log, behind one interface with
 * a PostgreSQL implementation (pg-flag-store.ts) and an in-memory fake (fake-flag-store.ts)
 * that pass the same contract tests (tests/flags/flag-store.contract.ts).
 */
import type { FlagMode, FlagSnapshot, RouteFlag } from './flag.js';

/** A flag as stored, with who last changed it. Routes without one are in `legacy` mode. */
export interface StoredFlag extends RouteFlag {
  owner: string;
  updatedAt: Date;
  updatedBy: string;
}

/** Who asks for a change, and why; every change needs a non-blank reason. */
export interface ChangeAuthor {
  actor: string;
  reason: string;
}

export interface FlagChange extends ChangeAuthor {
  /** A route id, or a glob where `*` stands for any run of characters (`sync.gis-export.*`). */
  pattern: string;
  mode: FlagMode;
  /** Required in canary mode (0..100); must be absent or 0 otherwise. */
  percent?: number;
  /** Allows leaving `retired`, the end state; refused otherwise. */
  force?: boolean;
}

/** One line of the append-only audit log. */
export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  /** The route, or `*` for the kill switch. */
  routeId: string;
  /** A mode, `canary:<percent>`, or `on`/`off` for the kill switch. */
  from: string;
  to: string;
  reason: string;
}

/** The route id an audit entry of the kill switch carries. */
export const killSwitchRouteId = '*';

export interface FlagStore {
  /** Every stored flag and the kill switch, as one consistent snapshot (state `live`). */
  snapshot(): Promise<FlagSnapshot>;
  /** The stored flags, ordered by route id. */
  list(): Promise<StoredFlag[]>;
  /** Applies a change to every route the pattern names, atomically, with one audit entry per route that changed. Returns the routes that changed. */
  set(change: FlagChange): Promise<StoredFlag[]>;
  /** Engages or releases the kill switch; returns false when it was already in that position (nothing audited). */
  setKillSwitch(engaged: boolean, author: ChangeAuthor): Promise<boolean>;
  /** Audit entries, newest first; of one route (or `*`) when given. */
  history(options?: { routeId?: string; limit?: number }): Promise<AuditEntry[]>;
  close(): Promise<void>;
}
