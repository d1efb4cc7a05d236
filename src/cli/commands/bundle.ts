import { CutoverError } from '../../errors.js';
import { buildBundle } from '../../bundle/bundle.js';
import { parseOptions, type Command } from '../command.js';

export const bundleCommand: Command = {
  name: 'bundle',
  summary: 'Build one .tar.gz that installs and runs the harness on Debian bookworm with no network: built JS, production node_modules (native modules built), node, the Debian packages with their dependencies, install.sh, county configs, a checksummed manifest.',
  usage: 'cutover bundle --out FILE.tar.gz [--keep-staging]',
  async run(argv) {
    const { values } = parseOptions(argv, { out: { type: 'string' }, 'keep-staging': { type: 'boolean' } });
    if (!values.out) throw new CutoverError('CUTOVER_ERR_USAGE', 'cutover bundle needs --out FILE.tar.gz');
    const summary = buildBundle({ out: values.out, log: (line) => console.error(line), keepStaging: values['keep-staging'] ?? false });
    console.log(
      `${summary.out}: ${(summary.bytes / 1024 / 1024).toFixed(1)} MiB, ${summary.files} files, ${summary.debianPackages} Debian packages, built in ${summary.seconds.toFixed(0)} s` +
        (summary.staging ? `; staging kept in ${summary.staging}` : ''),
    );
    console.log('on the offline machine: tar -xzf the archive, then ./install.sh (as root) and bin/cutover up');
    return 0;
  },
};
