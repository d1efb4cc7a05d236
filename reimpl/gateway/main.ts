/**
 * `node --import tsx reimpl/gateway/main.ts`: the TypeScript gateway on HOST/PORT (default
 * 127.0.0.1:5100), the counterpart of `python3 -m terrafusion_gateway`. Prints
 * `listening on http://HOST:PORT` (the real port, so PORT=0 works) once it accepts connections.
 */
import { buildGateway } from './app.js';
import { loadGatewaySettings } from './settings.js';

const settings = loadGatewaySettings();
const gateway = buildGateway(settings);
await gateway.app.listen({ host: settings.host, port: settings.port });
const address = gateway.app.server.address();
console.log(`listening on http://${settings.host}:${typeof address === 'object' && address ? address.port : settings.port}`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    gateway.close().finally(() => process.exit(0));
  });
}
