-- Requests that matched no catalogued route (forwarded to legacy, fail-safe), counted per
-- service, method, path (query left out) and hour, so the report can list unknown traffic.
CREATE TABLE cutover.unknown_traffic (
  service   text NOT NULL,
  method    text NOT NULL,
  path      text NOT NULL,
  hour      timestamptz NOT NULL,
  count     bigint NOT NULL CHECK (count > 0),
  last_seen timestamptz NOT NULL,
  PRIMARY KEY (service, method, path, hour)
);
CREATE INDEX ix_unknown_traffic_hour ON cutover.unknown_traffic (hour);
