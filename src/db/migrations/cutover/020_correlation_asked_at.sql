-- When the request that created a correlated job reached the proxy (proxy/correlation.ts
-- Correlation.askedAt): the earliest either side can have stamped the job, so a later read of
-- it holds the job's timestamps to that window (parity/compare/timestamp.ts). Null for pairs
-- learnt before this column.
ALTER TABLE correlations ADD COLUMN IF NOT EXISTS asked_at timestamptz;
