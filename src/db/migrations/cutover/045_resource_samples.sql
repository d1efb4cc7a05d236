-- Process usage of each side's services over time (gate/resource-samples.ts), sampled by the
-- harness that runs them (src/platform/resource-sampler.ts); the gate's resources criterion
-- reads them over its window. One row per service process group per sampling tick.
CREATE TABLE IF NOT EXISTS resource_samples (
    id           bigserial PRIMARY KEY,
    sampled_at   timestamptz NOT NULL,
    service      text NOT NULL,
    side         text NOT NULL CHECK (side IN ('legacy', 'reimpl')),
    instance     text NOT NULL,
    pid          integer NOT NULL,
    cpu_seconds  double precision NOT NULL,
    rss_bytes    bigint NOT NULL,
    hwm_bytes    bigint NOT NULL,
    requests     bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_resource_samples_sampled ON resource_samples (sampled_at);
