import { loadConfig } from '../../config/load.js';
import { ensureDatabase, openDatabaseServer } from '../../db/server.js';
import { migrate, migrateHarness } from '../../db/migrate.js';
import { parseOptions, type Command } from '../command.js';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Create or migrate the legacy schema (a shadow schema with --schema; the harness\'s own `cutover` schema, which `cutover proxy` needs, with --harness).',
  usage: 'cutover migrate [--schema NAME | --harness]',
  async run(argv) {
    const { values } = parseOptions(argv, { schema: { type: 'string' }, harness: { type: 'boolean' } });
    const config = loadConfig();
    const server = await openDatabaseServer(config, console.error);
    try {
      const url = config.database.url ?? (await ensureDatabase(server, config.database.name));
      if (values.harness) {
        const applied = await migrateHarness(url);
        console.log(applied.length ? applied.map((m) => `applied ${m.set}/${m.name} to cutover`).join('\n') : 'schema cutover is up to date');
        return 0;
      }
      const schema = values.schema ?? 'public';
      const applied = await migrate(url, { schema, sets: schema === 'public' ? ['reference', 'jobs'] : ['jobs'] });
      console.log(applied.length ? applied.map((m) => `applied ${m.set}/${m.name} to ${schema}`).join('\n') : `schema ${schema} is up to date`);
      return 0;
    } finally {
      await server.stop();
    }
  },
};
