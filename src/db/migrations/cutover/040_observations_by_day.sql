-- Observations partitioned by day (issue 11 item 6; docs/decisions/0023-observations-at-volume.md).
-- A day is one partition `observations_pYYYYMMDD` holding [day 00:00 UTC, next day 00:00 UTC), so
-- retention drops whole partitions (no DELETE, no vacuum debt) and a report over a window reads
-- only the days it covers. The partition key must be in the primary key: (observed_at, id).
-- An existing unpartitioned table is migrated in this transaction: its rows are copied into the
-- partitions of their days, its id sequence is kept (ids stay unique and increasing).

ALTER TABLE observations RENAME TO observations_unpartitioned;
ALTER INDEX IF EXISTS ix_observations_route_observed RENAME TO ix_observations_unpartitioned_route;
ALTER INDEX IF EXISTS ix_observations_observed RENAME TO ix_observations_unpartitioned_observed;
-- The bigserial's sequence is owned by the old table: free it, or dropping that table drops it.
ALTER SEQUENCE observations_id_seq OWNED BY NONE;

-- The same columns in the same order (defaults, NOT NULL and CHECKs copied), keyed by day.
CREATE TABLE observations (LIKE observations_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (observed_at);
ALTER TABLE observations ADD PRIMARY KEY (observed_at, id);
ALTER SEQUENCE observations_id_seq OWNED BY observations.id;

-- Per route and time (the gate, list by route); the verdict is in it so a route's counts by
-- verdict are read from the index alone where the visibility map allows.
CREATE INDEX ix_observations_route_observed ON observations (route_id, observed_at DESC, verdict);
-- Mismatch examples: the report reads whole rows of mismatched observations only.
CREATE INDEX ix_observations_mismatched ON observations (route_id, observed_at DESC) WHERE verdict = 'mismatched';

-- Creates the partitions of every day from `first_day` to `last_day` (UTC) that do not exist yet.
-- Several proxies may call it at once: a transaction-scoped advisory lock serialises them.
CREATE OR REPLACE FUNCTION ensure_observation_partitions(first_day date, last_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  day date;
  created integer := 0;
  name text;
BEGIN
  PERFORM pg_advisory_xact_lock(727277);
  day := first_day;
  WHILE day <= last_day LOOP
    name := 'observations_p' || to_char(day, 'YYYYMMDD');
    IF to_regclass(format('cutover.%I', name)) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE cutover.%I PARTITION OF cutover.observations FOR VALUES FROM (%L) TO (%L)',
        name, (day::timestamp AT TIME ZONE 'UTC'), ((day + 1)::timestamp AT TIME ZONE 'UTC'));
      created := created + 1;
    END IF;
    day := day + 1;
  END LOOP;
  RETURN created;
END $$;

-- The days the old rows need, and today and the next days for the proxies to come.
SELECT ensure_observation_partitions(
  LEAST((SELECT min(observed_at AT TIME ZONE 'UTC')::date FROM observations_unpartitioned), (now() AT TIME ZONE 'UTC')::date),
  GREATEST((SELECT max(observed_at AT TIME ZONE 'UTC')::date FROM observations_unpartitioned), (now() AT TIME ZONE 'UTC')::date + 3));
INSERT INTO observations SELECT * FROM observations_unpartitioned;
DROP TABLE observations_unpartitioned;
