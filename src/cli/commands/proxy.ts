import { loadConfig } from '../../config/load.js';
import { CutoverError } from '../../errors.js';
import { createEventLog } from '../../platform/event-log.js';
import { checkUpstreams, reportUpstreamProblems, startProxyServer } from '../../platform/proxy-server.js';
import { redactUrl } from '../../db/server.js';
import { parseOptions, type Command } from '../command.js';

export const proxyCommand: Command = {
  name: 'proxy',
  summary:
    'Start only the proxy: the front doors and the admin API in front of upstreams started elsewhere (URLs in proxy.upstreams or CUTOVER_UPSTREAM_<SIDE>_<NAME>), flags and observations in DATABASE_URL; SIGTERM drains, flushes and exits 0.',
  usage: 'cutover proxy [--strict] [--log-format text|json]',
  async run(argv) {
    const { values } = parseOptions(argv, { strict: { type: 'boolean' }, 'log-format': { type: 'string' } });
    const format = values['log-format'];
    if (format !== undefined && format !== 'text' && format !== 'json') throw new CutoverError('CUTOVER_ERR_USAGE', `--log-format must be text or json, not ${format}`);
    const config = loadConfig(format ? { overrides: { proxy: { logFormat: format } } } : {});
    const log = createEventLog(config.proxy.logFormat);
    const databaseUrl = config.database.url;
    if (!databaseUrl) throw new CutoverError('CUTOVER_ERR_CONFIG_INVALID', 'cutover proxy keeps flags and observations in the PostgreSQL of DATABASE_URL: set it (cutover up starts a database of its own)');
    log('proxy.starting', `harness database ${redactUrl(databaseUrl)}`, { database: redactUrl(databaseUrl), pid: process.pid });
    const server = await startProxyServer({ config, databaseUrl, log });
    try {
      reportUpstreamProblems(await checkUpstreams(config, server.catalogue, Object.keys(server.proxy.urls)), log, values.strict === true);
    } catch (error) {
      await server.close();
      throw error;
    }
    log('proxy.ready', 'serving; SIGTERM or Ctrl-C drains and stops', { doors: server.proxy.urls, admin: server.adminUrl });
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.shutdown();
    return 0;
  },
};
