/** `cutover flags`: list, change, audit and kill the route flags (flags/, issue 6). */
import { hostname, userInfo } from 'node:os';
import { loadConfig } from '../../config/load.js';
import { CutoverError } from '../../errors.js';
import { isFlagMode } from '../../../flags/flag.js';
import { describeFlagState } from '../../../flags/flag-change.js';
import { flagRows } from '../../../flags/flag-listing.js';
import type { AuditEntry, FlagStore, StoredFlag } from '../../../flags/flag-store.js';
import { openFlagStore } from '../../../flags/open-flag-store.js';
import { setGuarded } from '../../../flags/promotion-guard.js';
import { gatePromotionGuard } from '../../../gate/promotion-guard.js';
import { PgObservationStore } from '../../../proxy/observe/pg-observation-store.js';
import type { RouteCatalogue } from '../../../flags/route-catalogue.js';
import { parseOptions, type Command } from '../command.js';

const usage = [
  'cutover flags list [--json]',
  '       cutover flags set <route|glob> <mode> [--percent N] --reason "..." [--actor NAME] [--force]   (canary, reimpl, retired: the route must be READY in `cutover gate`, or --force)',
  '       cutover flags history [route|*] [--limit N] [--json]',
  '       cutover flags kill --reason "..." [--actor NAME]',
  '       cutover flags unkill --reason "..." [--actor NAME]',
  '',
  '--actor (default $USER@hostname) is recorded as given: the CLI writes the audit log with the',
  'database credential, which can write any audit row, so it is a label, not a proven identity.',
  'The admin API records the name of the token used (proxy.adminTokens) and takes no actor.',
].join('\n');

/** Who a change is recorded as when --actor is not given: $USER@hostname. */
export function defaultActor(env: NodeJS.ProcessEnv = process.env): string {
  let user = env.USER || env.LOGNAME;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname()}`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

function historyLines(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return 'no flag changes recorded';
  return table(
    ['WHEN', 'ACTOR', 'ROUTE', 'FROM', 'TO', 'REASON'],
    entries.map((entry) => [entry.at.toISOString(), entry.actor, entry.routeId === '*' ? '* (kill switch)' : entry.routeId, entry.from, entry.to, entry.reason]),
  );
}

async function list(store: FlagStore, catalogue: RouteCatalogue, json: boolean): Promise<void> {
  const [stored, snapshot] = await Promise.all([store.list(), store.snapshot()]);
  const rows = flagRows(catalogue, stored);
  const unknown = stored.filter((flag) => !catalogue.byId(flag.routeId));
  if (json) {
    console.log(JSON.stringify({ killSwitch: snapshot.killSwitch, routes: rows, uncatalogued: unknown }, null, 2));
    return;
  }
  if (snapshot.killSwitch) console.log('KILL SWITCH ENGAGED: every route is served by legacy whatever its flag says.\n');
  console.log(table(['ROUTE', 'METHOD', 'PATH', 'MODE', 'OWNER', 'CHANGED'], rows.map((row) => [
    row.routeId, row.method, row.path, describeFlagState(row), row.owner, row.updatedAt ? `${row.updatedAt} by ${row.updatedBy}` : '-',
  ])));
  if (unknown.length) console.log(`\nflags for routes no longer catalogued: ${unknown.map((flag) => flag.routeId).join(', ')}`);
}

export const flagsCommand: Command = {
  name: 'flags',
  summary: 'List, set, audit the per-route flags; engage or release the kill switch.',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      {
        json: { type: 'boolean' },
        percent: { type: 'string' },
        reason: { type: 'string' },
        actor: { type: 'string' },
        limit: { type: 'string' },
        force: { type: 'boolean' },
      },
      true,
    );
    const [verb, ...rest] = positionals;
    const expect = (count: number) => {
      if (rest.length !== count) throw new CutoverError('CUTOVER_ERR_USAGE', `flags ${verb} takes ${count} argument(s); usage: ${usage}`);
    };
    const author = () => ({ actor: values.actor ?? defaultActor(), reason: values.reason ?? '' });
    const number = (name: string, raw: string | undefined) => {
      if (raw === undefined) return undefined;
      if (!/^\d+$/.test(raw)) throw new CutoverError('CUTOVER_ERR_USAGE', `--${name} must be a whole number, got '${raw}'`);
      return Number(raw);
    };
    if (!verb || !['list', 'set', 'history', 'kill', 'unkill'].includes(verb)) {
      throw new CutoverError('CUTOVER_ERR_USAGE', `flags needs one of list, set, history, kill, unkill; usage: ${usage}`);
    }
    // Refuse bad input before touching the database.
    if (verb === 'set') {
      expect(2);
      if (!isFlagMode(rest[1])) throw new CutoverError('CUTOVER_ERR_FLAG_INVALID', `unknown mode '${rest[1]}'`);
    }
    if (['set', 'kill', 'unkill'].includes(verb) && !values.reason?.trim()) {
      throw new CutoverError('CUTOVER_ERR_FLAG_REASON_REQUIRED', `flags ${verb} was refused: no --reason given`);
    }
    const percent = number('percent', values.percent);
    const limit = number('limit', values.limit);

    const config = loadConfig();
    const opened = await openFlagStore(config, { log: console.error });
    const { store, catalogue } = opened;
    try {
      switch (verb) {
        case 'list':
          expect(0);
          await list(store, catalogue, values.json === true);
          return 0;
        case 'set': {
          // A promotion asks the readiness gate first (flags/promotion-guard.ts); --force with a reason overrides it, audited.
          const observations = new PgObservationStore(opened.url);
          const guard = gatePromotionGuard({ observations, catalogue, thresholds: config.gate.thresholds }, config.gate.windowHours);
          const change = { pattern: rest[0]!, mode: rest[1] as StoredFlag['mode'], percent, force: values.force === true, ...author() };
          const { changed, forced } = await setGuarded(store, catalogue.routes, guard, change).finally(() => observations.close());
          for (const refusal of forced) console.log(`FORCED past the readiness gate: ${refusal.routeId} is ${refusal.verdict} (${refusal.failed.join(', ')}); the audit log records it`);
          console.log(changed.length ? changed.map((flag) => `${flag.routeId}: ${describeFlagState(flag)}`).join('\n') : 'nothing changed: every route named was already in that state');
          return 0;
        }
        case 'history': {
          if (rest.length > 1) expect(1);
          const entries = await store.history({ routeId: rest[0], limit: limit ?? 50 });
          console.log(values.json ? JSON.stringify(entries, null, 2) : historyLines(entries));
          return 0;
        }
        default: {
          expect(0);
          const engaged = verb === 'kill';
          const moved = await store.setKillSwitch(engaged, author());
          console.log(moved ? `kill switch ${engaged ? 'engaged: every route now goes to legacy' : 'released: route flags apply again'}` : `kill switch was already ${engaged ? 'engaged' : 'released'}`);
          return 0;
        }
      }
    } finally {
      await opened.close();
    }
  },
};
