/** A service the harness starts as a child process: how to run it and how to know it is healthy. */
export interface ServiceSpec {
  /** Stable id, e.g. `legacy.sync`, `reimpl.gateway`, `ollama.standin`. */
  id: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  host: string;
  port: number;
  /** Path answering 2xx (or any status below 500 when `healthAnyStatus`) once the service is ready. */
  healthPath: string;
  /** How long to wait for health before giving up. */
  startTimeoutMs?: number;
}

export function baseUrl(spec: Pick<ServiceSpec, 'host' | 'port'>): string {
  return `http://${spec.host}:${spec.port}`;
}
