import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RunProgress } from '../../../parity/runner/progress.js';

function capture(tty: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY: tty, columns: 100 });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { stream, text: () => text };
}

describe('the run progress shared by calibrate, replay and fuzz', () => {
  it('prints one plain line per item when the output is not a terminal, then a summary', () => {
    const out = capture(false);
    const run = new RunProgress({ title: 'fuzz r', total: 2, stream: out.stream });
    run.item({ id: 'run 1', outcome: 'matched' });
    run.item({ id: 'run 2', outcome: 'mismatched', detail: '$.total differs' });
    const summary = run.finish();
    expect(out.text()).toContain('[1/2] matched run 1');
    expect(out.text()).toContain('[2/2] mismatched run 2 — $.total differs');
    expect(out.text()).toContain('result: FAIL (1 mismatched)');
    expect(out.text()).not.toContain('\r');
    expect(summary.counts).toEqual({ matched: 1, mismatched: 1 });
    expect(summary.exitCode).toBe(1);
  });

  it('redraws a bar in place on a terminal and keeps failing items above it', () => {
    const out = capture(true);
    const run = new RunProgress({ title: 'calibrate', total: 4, stream: out.stream });
    run.item({ id: 'a', outcome: 'stable' });
    run.item({ id: 'b', outcome: 'errored', detail: 'legacy refused' });
    run.note('saved something');
    run.finish();
    expect(out.text()).toContain('\r\x1b[2K');
    expect(out.text()).toMatch(/█+░+ 1\/4/);
    expect(out.text()).toContain('errored b — legacy refused\n');
    expect(out.text()).toContain('saved something\n');
  });

  it('exits zero when only matched, ignored and noisy outcomes remain', () => {
    const out = capture(false);
    const run = new RunProgress({ title: 't', stream: out.stream });
    for (const outcome of ['matched', 'ignored', 'noisy', 'stable']) run.item({ id: outcome, outcome });
    expect(run.finish().exitCode).toBe(0);
    expect(out.text()).toContain('result: pass');
  });

  it('fails on the outcomes the runner names, e.g. replay failing on obsolete fixtures', () => {
    const run = new RunProgress({ title: 't', stream: capture(false).stream, failOn: ['mismatched', 'obsolete'] });
    run.item({ id: 'x', outcome: 'obsolete' });
    expect(run.finish()).toMatchObject({ exitCode: 1, failing: { obsolete: 1 } });
  });

  it('writes the summary and every item as JSON to the --json file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'progress-')), 'run.json');
    const run = new RunProgress({ title: 't', total: 1, json: file, stream: capture(false).stream });
    run.item({ id: 'run 1', outcome: 'mismatched', data: { path: '$.a' } });
    run.finish({ seed: 42 });
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written).toMatchObject({ title: 't', total: 1, exitCode: 1, extra: { seed: 42 }, items: [{ id: 'run 1', data: { path: '$.a' } }] });
  });
});
