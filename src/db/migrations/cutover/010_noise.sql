-- Calibrated noise (`cutover calibrate`): per route and generalised JSON path, what
-- legacy-vs-legacy showed — how often the value differed, its kind, timestamp format,
-- numeric range and largest distance. Stable paths are kept too (varies = 'never').
-- A pinned row was set by a person and is never overwritten by a new calibration.
CREATE TABLE cutover.noise_calibrations (
  route_id   text PRIMARY KEY,
  samples    integer NOT NULL CHECK (samples >= 0),
  learned_at timestamptz NOT NULL
);

CREATE TABLE cutover.noise_paths (
  route_id  text NOT NULL REFERENCES cutover.noise_calibrations (route_id) ON DELETE CASCADE,
  path      text NOT NULL,
  samples   integer NOT NULL CHECK (samples >= 0),
  differed  integer NOT NULL CHECK (differed >= 0 AND differed <= samples),
  varies    text NOT NULL CHECK (varies IN ('always', 'sometimes', 'never')),
  kind      text NOT NULL,
  format    text,
  range_min double precision,
  range_max double precision,
  max_delta double precision,
  pinned    boolean NOT NULL DEFAULT false,
  PRIMARY KEY (route_id, path)
);
