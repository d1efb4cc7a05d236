/**
 * `node --import tsx reimpl/narrator/main.ts`: the TypeScript narrator on HOST/PORT (default
 * 127.0.0.1:7200), the counterpart of `python3 -m terrafusion_narrator`.
 */
import { buildNarrator } from './app.js';
import { loadNarratorSettings } from './settings.js';

const settings = loadNarratorSettings();
const { app } = buildNarrator(settings);
await app.listen({ host: settings.host, port: settings.port });
const address = app.server.address();
console.log(`listening on http://${settings.host}:${typeof address === 'object' && address ? address.port : settings.port}`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.close().finally(() => process.exit(0));
  });
}
