/** Port helpers: free ephemeral ports for tests, and a clear error when a configured port is taken. */
import { createServer } from 'node:net';
import { CutoverError } from '../errors.js';

/** Asks the OS for a free port on host. The port is released before returning, so a race is possible but rare. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Throws CUTOVER_ERR_PORT_IN_USE naming the service when host:port cannot be bound. */
export function assertPortFree(host: string, port: number, owner: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new CutoverError(
          'CUTOVER_ERR_PORT_IN_USE',
          `${owner} cannot listen on ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the port is already in use' : error.message}`,
        ),
      );
    });
    server.listen(port, host, () => server.close(() => resolve()));
  });
}
