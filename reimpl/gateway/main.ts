/**
 * `node --import tsx reimpl/gateway/main.ts`: the TypeScript gateway on HOST/PORT (default
 * 127.0.0.1:5100), the counterpart of `python3 -m terrafusion_gateway`. Prints
 * `listening on http://HOST:PORT` (the real port, so PORT=0 works) once it accepts connections.
 */
import { isCutoverError } from '../../src/errors.js';
import { buildGateway } from './app.js';
import { loadGatewaySettings, type GatewaySettings } from './settings.js';

let settings: Readonly<GatewaySettings>;
try {
  settings = loadGatewaySettings();
} catch (error) {
  // A bad setting (or an unsafe secret) is the operator's to fix: the code and what to do, no stack.
  if (!isCutoverError(error)) throw error;
  console.error(`${error.code}: ${error.message}\n${error.hint}`);
  process.exit(2);
}
const gateway = buildGateway(settings);
await gateway.app.listen({ host: settings.host, port: settings.port });
const address = gateway.app.server.address();
console.log(`listening on http://${settings.host}:${typeof address === 'object' && address ? address.port : settings.port}`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    gateway.close().finally(() => process.exit(0));
  });
}
