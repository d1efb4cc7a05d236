/**
 * Prometheus text as legacy's python prometheus_client writes it (GET /metrics of the sync
 * service): label pairs sorted by name, so `le` comes last, and bucket bounds and sample
 * values as Python floats (`le="1.0"`, `... 1.0`). The process metrics stay prom-client's;
 * only their text is rewritten. The GIS export families (legacy terrafusion_sync/metrics.py,
 * contract sections 1 and 1b.C) are GisExportMetrics, rendered as prometheus_client does,
 * `_created` samples included: alone on GET /plugins/v1/gis-export/metrics, and after the
 * process metrics on GET /metrics.
 */
import { floatRepr } from '../shared/py-json.js';
import { PyCounter, PyHistogram, renderPythonExposition } from '../shared/python-prometheus.js';

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

const LABELS = ['county_id', 'export_format'];

/** The six GIS export families, with production's help texts and buckets. */
export class GisExportMetrics {
  readonly submitted = new PyCounter('gis_export_jobs_submitted_total', 'Total number of GIS export jobs submitted', LABELS);
  readonly completed = new PyCounter('gis_export_jobs_completed_total', 'Total number of GIS export jobs completed successfully', LABELS);
  readonly failed = new PyCounter('gis_export_jobs_failed_total', 'Total number of GIS export jobs that failed', [...LABELS, 'error_type']);
  readonly duration = new PyHistogram('gis_export_processing_duration_seconds', 'Duration of GIS export job processing in seconds', LABELS, [1, 5, 10, 30, 60, 120, 300, 600]);
  readonly fileSize = new PyHistogram('gis_export_file_size_kb', 'Size of exported GIS files in KB', LABELS, [10, 100, 500, 1000, 5000, 10000, 50000, 100000]);
  readonly recordCount = new PyHistogram('gis_export_record_count', 'Number of records in GIS export results', LABELS, [10, 100, 500, 1000, 5000, 10000, 50000, 100000, 500000]);

  /** `generate_latest` of the six, in legacy's declaration order. */
  render(): Promise<string> {
    return renderPythonExposition([this.submitted, this.completed, this.failed, this.duration, this.fileSize, this.recordCount]);
  }
}

/** GET /metrics of a service that runs GIS exports: the process metrics, then the GIS export families. */
export async function serviceExposition(processMetrics: string, gis: GisExportMetrics): Promise<string> {
  const head = pythonOrderedExposition(processMetrics);
  return `${head}${head === '' || head.endsWith('\n') ? '' : '\n'}${await gis.render()}`;
}
