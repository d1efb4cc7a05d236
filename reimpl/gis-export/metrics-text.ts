/**
 * Prometheus text as legacy's python prometheus_client writes it (GET /metrics of the sync
 * service): label pairs sorted by name, so `le` comes last, and bucket bounds and sample
 * values as Python floats (`le="1.0"`, `... 1.0`). The metrics themselves stay prom-client's
 * (custom buckets, default process metrics); only their text is rewritten.
 */
import { floatRepr } from '../shared/py-json.js';

function pyFloatText(text: string): string {
  if (text === '+Inf' || text === '-Inf' || text === 'NaN') return text;
  const n = Number(text);
  return Number.isFinite(n) ? floatRepr(n) : text;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)(.*)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Rewrites prom-client's exposition into prometheus_client's ordering and number format. */
export function pythonOrderedExposition(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith('#') || line === '') return line;
      const match = SAMPLE.exec(line);
      if (!match) return line;
      const [, name, , labels, value, rest] = match;
      let rendered = '';
      if (labels) {
        const pairs = [...labels.matchAll(LABEL)].map(([, key, v]) => [key!, key === 'le' ? pyFloatText(v!) : v!] as const);
        pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        rendered = `{${pairs.map(([k, v]) => `${k}="${v}"`).join(',')}}`;
      }
      return `${name}${rendered} ${pyFloatText(value!)}${rest}`;
    })
    .join('\n');
}
