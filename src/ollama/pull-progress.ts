/**
 * How a pull's progress is shown: on a terminal, one line per layer redrawn as a bar; elsewhere
 * (CI logs, pipes) plain lines, one per status and per quarter of each layer, so a log stays short.
 */
import type { ProgressResponse } from 'ollama';

const WIDTH = 30;

function size(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} KB`;
  return `${bytes} B`;
}

export class PullProgressPrinter {
  private status = '';
  private quarter = -1;

  constructor(
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
  ) {}

  line(progress: ProgressResponse): void {
    const total = progress.total ?? 0;
    const completed = Math.min(progress.completed ?? 0, total);
    const changed = progress.status !== this.status;
    if (changed && this.tty && this.status !== '') this.write('\n');
    if (changed) this.quarter = -1;
    this.status = progress.status;
    if (!(total > 0)) {
      if (changed) this.write(this.tty ? progress.status : `${progress.status}\n`);
      return;
    }
    const share = completed / total;
    if (this.tty) {
      const filled = Math.round(share * WIDTH);
      this.write(`\r${progress.status}  [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%  ${size(completed)} / ${size(total)}`);
      return;
    }
    const quarter = Math.floor(share * 4);
    if (quarter > this.quarter) {
      this.quarter = quarter;
      this.write(`${progress.status}  ${Math.floor(share * 100)}%  ${size(completed)} / ${size(total)}\n`);
    }
  }

  /** Ends the last bar's line on a terminal. */
  done(): void {
    if (this.tty && this.status !== '') this.write('\n');
    this.status = '';
  }
}
