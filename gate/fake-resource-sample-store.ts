/** The in-memory ResourceSampleStore, for tests. */
import type { ResourceSample, ResourceSampleStore } from './resource-samples.js';

export class FakeResourceSampleStore implements ResourceSampleStore {
  readonly samples: ResourceSample[] = [];

  async append(samples: readonly ResourceSample[]): Promise<void> {
    this.samples.push(...samples.map((sample) => ({ ...sample })));
  }

  async list(query: { since: Date; until?: Date }): Promise<ResourceSample[]> {
    const until = query.until?.getTime() ?? Infinity;
    return this.samples
      .filter((sample) => sample.sampledAt >= query.since && sample.sampledAt.getTime() <= until)
      .sort((a, b) => a.sampledAt.getTime() - b.sampledAt.getTime());
  }

  async close(): Promise<void> {}
}
