/** `cutover traffic`: a bounded, open-loop load driver through the proxy's doors (parity/runner/traffic.ts). */
import { loadRouteCatalogue } from '../../../flags/route-catalogue.js';
import { doorOf } from '../../../proxy/start.js';
import { defaultFixturesDir } from '../../../parity/runner/fixture.js';
import { runTraffic } from '../../../parity/runner/traffic.js';
import { loadConfig } from '../../config/load.js';
import { CutoverError } from '../../errors.js';
import { parseOptions, type Command } from '../command.js';

/** `30s`, `2m`, `1500ms` or plain seconds, as milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new CutoverError('CUTOVER_ERR_USAGE', `--duration must be like 30s, 2m or 1500ms; got '${text}'`);
  const amount = Number(match[1]);
  return match[2] === 'ms' ? amount : match[2] === 'm' ? amount * 60_000 : amount * 1000;
}

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new CutoverError('CUTOVER_ERR_USAGE', `--${name} must be a positive number; got '${text}'`);
  return value;
}

export const trafficCommand: Command = {
  name: 'traffic',
  summary: 'Drive realistic traffic through the proxy: every catalogued route, whole job workflows and real logins, open loop at --rate for --duration or --count; stops by itself and sums up.',
  usage: 'cutover traffic [--rate 20 | --speed 4x] (--duration 60s | --count N) [--fixtures DIR] [--max-in-flight 256]',
  async run(argv) {
    const { values } = parseOptions(argv, {
      rate: { type: 'string', default: '20' },
      speed: { type: 'string' },
      duration: { type: 'string' },
      count: { type: 'string' },
      fixtures: { type: 'string' },
      'max-in-flight': { type: 'string' },
    });
    if (values.duration === undefined && values.count === undefined) throw new CutoverError('CUTOVER_ERR_USAGE', 'give --duration (e.g. 60s) or --count N: traffic stops by itself');
    const config = loadConfig();
    const catalogue = loadRouteCatalogue();
    const urls = Object.fromEntries(catalogue.services.map((service) => {
      const door = doorOf(config, service);
      return [service.name, `http://${door.host}:${door.port}`];
    })) as { sync: string; gateway: string };
    const count = positive('count', values.count);
    const maxInFlight = positive('max-in-flight', values['max-in-flight']);
    const speed = positive('speed', values.speed?.replace(/x$/i, ''));
    const summary = await runTraffic({
      catalogue,
      urls,
      rate: positive('rate', values.rate)!,
      ...(values.duration === undefined ? {} : { durationMs: parseDuration(values.duration) }),
      ...(count === undefined ? {} : { count: Math.round(count) }),
      ...(maxInFlight === undefined ? {} : { maxInFlight }),
      ...(speed === undefined ? {} : { speed }),
      fixturesDir: values.fixtures ?? config.fixtures.dir ?? defaultFixturesDir,
      passwords: config.fixtures.replayPasswords,
    });
    return summary.failed > 0 || summary.unfinished > 0 ? 1 : 0;
  },
};
