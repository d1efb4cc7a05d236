import { loadConfig } from '../../config/load.js';
import { ensureDatabase, openDatabaseServer } from '../../db/server.js';
import { migrate } from '../../db/migrate.js';
import { CutoverError } from '../../errors.js';
import { seedCounty, type SeedSummary } from '../../seed/index.js';
import { parseOptions, type Command } from '../command.js';

function integerOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new CutoverError('CUTOVER_ERR_SEED_INVALID', `--${name} must be an integer, got '${raw}'`);
  return value;
}

function describe(summary: SeedSummary): string {
  const perSecond = Math.round(summary.parcels / Math.max(summary.elapsedMs / 1000, 0.001));
  return `seeded ${summary.countyId} (seed ${summary.seed}): ${summary.parcels} parcels, ${summary.sales} sales, ` +
    `${summary.zoningAreas} zoning areas, ${summary.roadSegments} road segments in ${summary.elapsedMs} ms (${perSecond} parcels/s)`;
}

export const seedCommand: Command = {
  name: 'seed',
  summary: 'Generate deterministic synthetic counties (parcels, sales, zoning, roads) into PostgreSQL, replacing their rows.',
  usage: 'cutover seed --county <county_id|all> [--parcels N] [--seed N] [--configs COUNTY_CONFIGS_DIR]',
  async run(argv) {
    const { values } = parseOptions(argv, { county: { type: 'string' }, parcels: { type: 'string' }, seed: { type: 'string' }, configs: { type: 'string' } });
    if (!values.county) throw new CutoverError('CUTOVER_ERR_USAGE', 'seed needs --county <county_id> (or --county all)');
    const config = loadConfig();
    const seed = integerOption('seed', values.seed) ?? config.seed.seed;
    const parcels = integerOption('parcels', values.parcels);
    // `all` means the configured counties at their configured sizes; --parcels overrides every size.
    const targets = values.county === 'all'
      ? config.seed.counties.map((county) => ({ countyId: county.countyId, parcels: parcels ?? county.parcels }))
      : [{ countyId: values.county, parcels: parcels ?? config.seed.counties.find((c) => c.countyId === values.county)?.parcels ?? 20_000 }];
    const server = await openDatabaseServer(config, console.error);
    try {
      const url = config.database.url ?? (await ensureDatabase(server, config.database.name));
      await migrate(url);
      for (const target of targets) console.log(describe(await seedCounty(url, { ...target, seed, ...(values.configs ? { countyConfigsDir: values.configs } : {}) })));
      return 0;
    } finally {
      await server.stop();
    }
  },
};
