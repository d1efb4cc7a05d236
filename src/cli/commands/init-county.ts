import { loadConfig } from '../../config/load.js';
import { CutoverError } from '../../errors.js';
import { initCounty } from '../../onboard/init-county.js';
import { terminalPrompter } from '../../onboard/terminal-prompt.js';
import { countyConfigsDir } from '../../platform/paths.js';
import { parseOptions, type Command } from '../command.js';

export const initCountyCommand: Command = {
  name: 'init-county',
  summary: 'Onboard a county: county.json, mapping.yaml, the RBAC users (werkzeug hashes; passwords asked or generated and printed once) and a .env, checked with the legacy and reimplemented loaders.',
  usage:
    'cutover init-county <county_id> --name "Yakima County" --legacy-system PACS|TYLER|PATRIOT|CSV --origin=LON,LAT ' +
    '[--state WA] [--city NAME] [--zip 98901,98902] [--db-host H] [--db-port N] [--db-name D] [--db-user U] ' +
    '[--formats GeoJSON,Shapefile,KML,GeoPackage,CSV] [--dir COUNTY_CONFIGS_DIR] [--generate-passwords] [--force]',
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      {
        name: { type: 'string' },
        'legacy-system': { type: 'string' },
        state: { type: 'string' },
        origin: { type: 'string' },
        city: { type: 'string' },
        zip: { type: 'string' },
        'db-host': { type: 'string' },
        'db-port': { type: 'string' },
        'db-name': { type: 'string' },
        'db-user': { type: 'string' },
        formats: { type: 'string' },
        dir: { type: 'string' },
        'generate-passwords': { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
      },
      true,
    );
    if (positionals.length > 1) throw new CutoverError('CUTOVER_ERR_USAGE', `init-county takes one <county_id>, got ${positionals.join(' ')}`);
    const config = loadConfig();
    const result = await initCounty(
      {
        countyId: positionals[0],
        name: values.name,
        legacySystem: values['legacy-system'],
        state: values.state,
        origin: values.origin,
        city: values.city,
        zip: values.zip,
        dbHost: values['db-host'],
        dbPort: values['db-port'],
        dbName: values['db-name'],
        dbUser: values['db-user'],
        formats: values.formats,
        dir: values.dir ?? countyConfigsDir,
        force: values.force,
      },
      { python: config.python, prompter: values['generate-passwords'] ? undefined : terminalPrompter() },
    );
    console.log(`wrote ${result.countyId} in ${result.folder} (checked with the legacy and reimplemented loaders):`);
    for (const file of result.files) console.log(`  ${file}`);
    const generated = result.users.filter((user) => user.generated);
    if (generated.length > 0) {
      console.log('passwords (shown this once, only their hashes are stored; hand them over and forget them):');
      const width = Math.max(...generated.map((user) => user.username.length));
      for (const user of generated) console.log(`  ${user.username.padEnd(width)}  ${user.password}  (${user.role})`);
    }
    console.log(`next: cutover seed --county ${result.countyId}${values.dir ? ` --configs ${values.dir}` : ''}`);
    return 0;
  },
};
