-- Requests of a sampled route (`sample:` in flags/routes.yaml) that got no shadow copy, per route
-- and hour, added to by every proxy instance with its observation batches; the report shows them,
-- so a route's observations read against how much traffic they stand for.
CREATE TABLE IF NOT EXISTS sampled_out (
    route_id  text NOT NULL,
    hour      timestamptz NOT NULL,
    requests  bigint NOT NULL,
    PRIMARY KEY (route_id, hour)
);
