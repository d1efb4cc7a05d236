import { CutoverError } from '../../errors.js';
import { scaffoldRoute } from '../../onboard/scaffold-route.js';
import { repoRoot } from '../../platform/paths.js';
import { parseOptions, type Command } from '../command.js';

export const scaffoldCommand: Command = {
  name: 'scaffold',
  summary: 'Scaffold a route: its flags/routes.yaml entry, fixture folder, a reimplementation handler registered in its service (501 until written) and a contract test that fails until it is implemented.',
  usage: 'cutover scaffold route <route-id> --service S --method M --path TEMPLATE [--writes] [--upstream NAME] [--owner TEAM] [--root DIR]',
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      {
        service: { type: 'string' },
        method: { type: 'string' },
        path: { type: 'string' },
        writes: { type: 'boolean', default: false },
        upstream: { type: 'string' },
        owner: { type: 'string' },
        root: { type: 'string' },
      },
      true,
    );
    const [what, routeId, ...extra] = positionals;
    if (what !== 'route' || extra.length > 0) throw new CutoverError('CUTOVER_ERR_USAGE', 'usage: cutover scaffold route <route-id> --service S --method M --path TEMPLATE');
    const result = scaffoldRoute({ routeId, service: values.service, method: values.method, path: values.path, writes: values.writes, upstream: values.upstream, owner: values.owner, root: values.root ?? repoRoot });
    for (const file of result.changed) console.log(`changed ${file}`);
    for (const file of result.created) console.log(`created ${file}`);
    console.log('The generated code is a starting point: the handler answers 501 and the contract test fails until the route is implemented as legacy answers it.');
    return 0;
  },
};
