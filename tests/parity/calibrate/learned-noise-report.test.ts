import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJsonText } from '../../../parity/compare/json-text.js';
import { NoiseLearner } from '../../../parity/runner/calibrate-learn.js';
import { buildReport } from '../../../src/report/report.js';
import { writeReport } from '../../../src/report/write-report.js';

describe('the report\'s learned noise section', () => {
  it('lists, per calibrated route, the noisy paths with how often, their kind and spread, and counts the stable ones', () => {
    const learner = new NoiseLearner('sync.valuation.run');
    learner.observe(parseJsonText('{"job_id":"0b7a3f52-8a8e-4c52-9d0e-1a2b3c4d5e6f","created_at":"2024-01-01T00:00:00.000100","status":"COMPLETED"}'),
      parseJsonText('{"job_id":"9c1e7a11-2b3c-4d5e-8f90-abcdefabcdef","created_at":"2024-01-01T00:00:00.004100","status":"COMPLETED"}'));
    const learned = learner.learned('2024-01-02T00:00:00.000Z');
    const report = buildReport({ observations: [], routes: [], generatedAt: new Date('2024-01-02T00:00:00Z') });
    const paths = writeReport(report, mkdtempSync(join(tmpdir(), 'noise-report-')), [learned]);
    const markdown = readFileSync(paths.markdown, 'utf8');
    expect(markdown).toContain('## Learned noise');
    expect(markdown).toContain('1 legacy-vs-legacy sample pairs (learned 2024-01-02T00:00:00.000Z): 2 noisy paths, 1 stable.');
    expect(markdown).toContain('| `$.job_id` | always | uuid | - |  |');
    expect(markdown).toContain('| `$.created_at` | always | timestamp `9999-99-99T99:99:99.999999` | 4.0 ms |  |');
    expect(readFileSync(paths.html, 'utf8')).toMatch(/<h2>Learned noise<\/h2>[\s\S]*<code>\$\.job_id<\/code>[\s\S]*<\/body>/);
    expect(JSON.parse(readFileSync(paths.json, 'utf8')).learnedNoise[0].routeId).toBe('sync.valuation.run');
  });

  it('leaves the report as it was when no calibration is given', () => {
    const report = buildReport({ observations: [], routes: [], generatedAt: new Date('2024-01-02T00:00:00Z') });
    const paths = writeReport(report, mkdtempSync(join(tmpdir(), 'noise-report-')));
    expect(readFileSync(paths.markdown, 'utf8')).not.toContain('Learned noise');
  });
});
