/**
 * The shared run UX of calibrate, replay and fuzz: a progress bar on a terminal, one plain line
 * per item otherwise (CI logs stay greppable), a summary at the end, `--json FILE|-` output and
 * an exit code that is non-zero while failing outcomes (mismatches, by default) remain.
 *
 *   const run = new RunProgress({ title: 'fuzz sync.valuation.run', total: 30, json: values.json });
 *   run.item({ id: 'run 1', outcome: 'matched' });
 *   return run.finish().exitCode;
 */
import { writeFileSync } from 'node:fs';

/** Outcomes the runners use; a runner may add its own (replay: added, obsolete). */
export type Outcome = 'matched' | 'mismatched' | 'ignored' | 'errored' | 'noisy' | 'stable' | 'added' | 'obsolete' | (string & {});

export interface RunItem {
  /** What was run, e.g. a fixture path or `run 17`. */
  id: string;
  outcome: Outcome;
  /** One short line shown next to the item when it is not a success. */
  detail?: string;
  /** Anything the JSON output should carry for this item (differences, a shrunk request...). */
  data?: unknown;
}

export interface RunSummary {
  title: string;
  total: number;
  counts: Record<string, number>;
  /** Outcomes that made the run fail, with their counts. */
  failing: Record<string, number>;
  elapsedMs: number;
  exitCode: number;
  /** What the runner adds to the summary (seed, routes, saved fixtures...). */
  extra?: Record<string, unknown>;
}

/** Lifecycle callbacks, all optional, like vitest's reporters. */
export interface Reporter {
  onStart?(title: string, total: number | undefined): void;
  onItem?(item: RunItem, done: number, counts: Readonly<Record<string, number>>): void;
  onNote?(line: string): void;
  onFinish?(summary: RunSummary, items: readonly RunItem[]): void;
}

export interface RunProgressOptions {
  title: string;
  /** Items expected, for the bar and "n/N"; unknown totals show a counter. */
  total?: number;
  /** `--json`: a file path, or `-` for stdout (the human output then goes to stderr only). */
  json?: string | undefined;
  /** Outcomes that make the exit code non-zero. Default: mismatched, errored. */
  failOn?: readonly Outcome[];
  /** Where the human output goes; default process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Force the bar on or off; default: the stream is a TTY. */
  tty?: boolean;
  /** Extra reporters (tests use a recording one). */
  reporters?: readonly Reporter[];
}

const successes = new Set(['matched', 'stable', 'noisy', 'ignored']);

/** Drives the reporters for one run and computes its summary and exit code. */
export class RunProgress {
  private readonly items: RunItem[] = [];
  private readonly counts: Record<string, number> = {};
  private readonly started = Date.now();
  private readonly reporters: Reporter[];
  private readonly failOn: ReadonlySet<string>;
  private total: number | undefined;
  private summary: RunSummary | undefined;

  constructor(private readonly options: RunProgressOptions) {
    const stream = options.stream ?? process.stderr;
    const tty = options.tty ?? Boolean(stream.isTTY);
    this.reporters = [tty ? barReporter(stream) : lineReporter(stream), ...(options.json ? [jsonReporter(options.json)] : []), ...(options.reporters ?? [])];
    this.failOn = new Set(options.failOn ?? ['mismatched', 'errored']);
    this.total = options.total;
    for (const reporter of this.reporters) reporter.onStart?.(options.title, options.total);
  }

  /** The total, once known (a fuzz run's total is known up front, a replay's after listing fixtures). */
  setTotal(total: number): void {
    this.total = total;
  }

  item(item: RunItem): void {
    this.items.push(item);
    this.counts[item.outcome] = (this.counts[item.outcome] ?? 0) + 1;
    for (const reporter of this.reporters) reporter.onItem?.(item, this.items.length, this.counts);
  }

  /** A message that is not an item (a service started, a fixture saved); never breaks the bar. */
  note(line: string): void {
    for (const reporter of this.reporters) reporter.onNote?.(line);
  }

  /** Ends the run: prints the summary, writes the JSON, and returns the summary with its exit code. */
  finish(extra?: Record<string, unknown>): RunSummary {
    if (this.summary) return this.summary;
    const failing = Object.fromEntries(Object.entries(this.counts).filter(([outcome, n]) => this.failOn.has(outcome) && n > 0));
    this.summary = {
      title: this.options.title,
      total: this.items.length,
      counts: { ...this.counts },
      failing,
      elapsedMs: Date.now() - this.started,
      exitCode: Object.keys(failing).length > 0 ? 1 : 0,
      ...(extra ? { extra } : {}),
    };
    for (const reporter of this.reporters) reporter.onFinish?.(this.summary, this.items);
    return this.summary;
  }
}

function countsText(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts).map(([outcome, n]) => `${n} ${outcome}`).join(', ') || 'nothing run';
}

function summaryLines(summary: RunSummary, items: readonly RunItem[]): string[] {
  const seconds = (summary.elapsedMs / 1000).toFixed(1);
  const lines = [`${summary.title}: ${summary.total} run in ${seconds}s — ${countsText(summary.counts)}`];
  const bad = items.filter((item) => !successes.has(item.outcome));
  for (const item of bad.slice(0, 20)) lines.push(`  ${item.outcome.padEnd(10)} ${item.id}${item.detail ? `  ${item.detail}` : ''}`);
  if (bad.length > 20) lines.push(`  ... and ${bad.length - 20} more (see --json)`);
  lines.push(summary.exitCode === 0 ? 'result: pass' : `result: FAIL (${countsText(summary.failing)})`);
  return lines;
}

/** One line per item: for logs and CI, where a redrawn bar is noise. */
function lineReporter(stream: NodeJS.WritableStream): Reporter {
  let total: number | undefined;
  return {
    onStart(title, n) {
      total = n;
      stream.write(`${title}: starting${n === undefined ? '' : ` (${n} items)`}\n`);
    },
    onItem(item, done) {
      const position = total === undefined ? `${done}` : `${done}/${total}`;
      stream.write(`[${position}] ${item.outcome} ${item.id}${item.detail ? ` — ${item.detail}` : ''}\n`);
    },
    onNote: (line) => void stream.write(`${line}\n`),
    onFinish: (summary, items) => void stream.write(`${summaryLines(summary, items).join('\n')}\n`),
  };
}

/** A bar redrawn in place on one line; notes and failing items are printed above it. */
function barReporter(stream: NodeJS.WritableStream & { columns?: number }): Reporter {
  let title = '';
  let total: number | undefined;
  let last = '';
  const clear = () => last && stream.write('\r\x1b[2K');
  const draw = (done: number, counts: Readonly<Record<string, number>>) => {
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 60));
    const filled = total ? Math.round((done / Math.max(total, 1)) * width) : done % (width + 1);
    const bar = `${'█'.repeat(Math.min(filled, width))}${'░'.repeat(Math.max(width - filled, 0))}`;
    last = `${title} ${bar} ${done}${total === undefined ? '' : `/${total}`} ${countsText(counts)}`;
    stream.write(`\r\x1b[2K${last}`);
  };
  return {
    onStart(t, n) {
      title = t;
      total = n;
      draw(0, {});
    },
    onItem(item, done, counts) {
      if (!successes.has(item.outcome)) {
        clear();
        stream.write(`${item.outcome} ${item.id}${item.detail ? ` — ${item.detail}` : ''}\n`);
      }
      draw(done, counts);
    },
    onNote(line) {
      clear();
      stream.write(`${line}\n`);
      if (last) stream.write(last);
    },
    onFinish(summary, items) {
      clear();
      last = '';
      stream.write(`${summaryLines(summary, items).join('\n')}\n`);
    },
  };
}

/** `--json FILE` or `--json -`: the summary and every item, written once at the end. */
function jsonReporter(target: string): Reporter {
  return {
    onFinish(summary, items) {
      const text = `${JSON.stringify({ ...summary, items }, null, 2)}\n`;
      if (target === '-') process.stdout.write(text);
      else writeFileSync(target, text);
    },
  };
}
