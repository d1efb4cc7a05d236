/** `cutover observations prune`: the retention round of the proxies (proxy/observe/observation-retention.ts), once, by hand. */
import { openFlagStore } from '../../../flags/open-flag-store.js';
import { retentionRound } from '../../../proxy/observe/observation-retention.js';
import { PgObservationStore } from '../../../proxy/observe/pg-observation-store.js';
import { loadConfig } from '../../config/load.js';
import { CutoverError } from '../../errors.js';
import { parseOptions, type Command } from '../command.js';

const usage = 'cutover observations prune [--retention-days N]';

export const observationsCommand: Command = {
  name: 'observations',
  summary: 'Drop the day partitions of observations past retention (proxy.observations.retentionDays) and create those of the days ahead.',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { 'retention-days': { type: 'string' } }, true);
    if (positionals[0] !== 'prune' || positionals.length !== 1) throw new CutoverError('CUTOVER_ERR_USAGE', `usage: ${usage}`);
    const raw = values['retention-days'];
    if (raw !== undefined && !/^[1-9]\d*$/.test(raw)) throw new CutoverError('CUTOVER_ERR_USAGE', `--retention-days must be a whole number of days, at least 1; got '${raw}'`);
    const config = loadConfig();
    const retentionDays = raw === undefined ? config.proxy.observations.retentionDays : Number(raw);
    const opened = await openFlagStore(config, { log: console.error });
    const store = new PgObservationStore(opened.url);
    try {
      const round = await retentionRound(store, { retentionDays, partitionsAheadDays: config.proxy.observations.partitionsAheadDays });
      for (const partition of round.dropped) console.log(`dropped ${partition.name} (${partition.day}, ${partition.observations} observations)`);
      console.log(`${round.dropped.length} day partitions dropped (days ending by ${round.cutoff.toISOString()}, ${retentionDays} days kept), ${round.created} created ahead`);
      return 0;
    } finally {
      await store.close();
      await opened.close();
    }
  },
};
