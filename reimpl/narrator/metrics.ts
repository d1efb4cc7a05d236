/**
 * The narrator's metrics (GET /api/v1/metrics), as legacy/terrafusion_narrator/metrics.py: one
 * `ai_jobs_total{task_type,model_name,status}` sample and one `ai_latency_seconds{task_type,model_name}`
 * observation per narration request, labelled with the model that produced the answer.
 */
import { PyCounter, PyHistogram, renderPythonExposition } from '../shared/python-prometheus.js';

export class NarratorMetrics {
  readonly jobs = new PyCounter('ai_jobs_total', 'Narration requests by task, model used and outcome', ['task_type', 'model_name', 'status']);
  readonly latency = new PyHistogram('ai_latency_seconds', 'Time to answer a narration request', ['task_type', 'model_name']);

  record(taskType: string, modelName: string, status: string, seconds: number): void {
    this.jobs.inc({ task_type: taskType, model_name: modelName, status });
    this.latency.observe({ task_type: taskType, model_name: modelName }, seconds);
  }

  render(): Promise<string> {
    return renderPythonExposition([this.jobs, this.latency]);
  }
}
