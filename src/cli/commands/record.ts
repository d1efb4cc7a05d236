/** `cutover record`: golden fixtures from the traffic flowing through a recording proxy (parity/runner/record*.ts). */
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import { defaultFixturesDir } from '../../../parity/runner/fixture.js';
import { startRecording } from '../../../parity/runner/record.js';
import { recordGoldenSet } from '../../../parity/runner/record-golden.js';
import { loadConfig } from '../../config/load.js';
import { CutoverError } from '../../errors.js';
import { parseOptions, type Command } from '../command.js';

function positiveNumber(raw: string | undefined, option: string, max = Infinity): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) throw new CutoverError('CUTOVER_ERR_USAGE', `${option} must be a number in (0, ${max}]; got '${raw}'`);
  return value;
}

export const recordCommand: Command = {
  name: 'record',
  summary: 'Record golden fixtures (redacted request/response pairs) from traffic through a recording proxy in front of legacy.',
  usage:
    'cutover record [--duration S | --until-count N] [--sample R] [--route GLOB]... [--out DIR]\n' +
    '       cutover record --golden   (fresh legacy platform + representative traffic → parity/fixtures/)',
  async run(argv) {
    const { values } = parseOptions(argv, {
      duration: { type: 'string' },
      'until-count': { type: 'string' },
      sample: { type: 'string' },
      route: { type: 'string', multiple: true },
      out: { type: 'string' },
      golden: { type: 'boolean' },
    });
    const duration = positiveNumber(values.duration, '--duration');
    const untilCount = positiveNumber(values['until-count'], '--until-count');
    const sample = positiveNumber(values.sample, '--sample', 1);
    if (duration !== undefined && untilCount !== undefined) throw new CutoverError('CUTOVER_ERR_USAGE', 'give --duration or --until-count, not both');
    const config = loadConfig();
    const dir = values.out ?? config.fixtures.dir ?? defaultFixturesDir;
    const catalogue = loadRouteCatalogue();
    const onFixture = (fixture: { routeId: string; shape: string }) => console.error(`recorded ${fixture.routeId}/${fixture.shape}`);
    if (values.golden) {
      const counts = await recordGoldenSet(dir, catalogue, (line) => console.error(line));
      console.log(`${counts.sent} requests sent: ${counts.written} fixtures written to ${dir}, ${counts.duplicates} duplicates, ${counts.skipped} skipped, ${counts.bounded} over the bounds`);
      return 0;
    }
    const recording = await startRecording({ config, catalogue, dir, sample: sample ?? 1, routes: values.route ?? [], onFixture });
    console.error(`recording through ${Object.entries(recording.proxy.urls).map(([service, url]) => `${service} ${url}`).join(', ')} (Ctrl-C stops)`);
    await new Promise<void>((resolve) => {
      const timer = duration === undefined ? undefined : setTimeout(resolve, duration * 1000);
      if (untilCount !== undefined) void recording.untilCount(untilCount).then(resolve);
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      void Promise.resolve().then(() => timer?.unref?.());
    });
    const counts = await recording.stop();
    console.log(`${counts.seen} exchanges seen: ${counts.written} fixtures written to ${dir}, ${counts.duplicates} duplicates, ${counts.skipped} skipped, ${counts.bounded} over the bounds`);
    return 0;
  },
};
