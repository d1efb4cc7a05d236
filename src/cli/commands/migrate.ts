import { loadConfig } from '../../config/load.js';
import { ensureDatabase, openDatabaseServer } from '../../db/server.js';
import { migrate } from '../../db/migrate.js';
import { parseOptions, type Command } from '../command.js';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Create or migrate the legacy schema (and a shadow schema with --schema).',
  usage: 'cutover migrate [--schema NAME]',
  async run(argv) {
    const { values } = parseOptions(argv, { schema: { type: 'string' } });
    const config = loadConfig();
    const server = await openDatabaseServer(config, console.error);
    try {
      const url = config.database.url ?? (await ensureDatabase(server, config.database.name));
      const schema = values.schema ?? 'public';
      const applied = await migrate(url, { schema, sets: schema === 'public' ? ['reference', 'jobs'] : ['jobs'] });
      console.log(applied.length ? applied.map((m) => `applied ${m.set}/${m.name} to ${schema}`).join('\n') : `schema ${schema} is up to date`);
      return 0;
    } finally {
      await server.stop();
    }
  },
};
