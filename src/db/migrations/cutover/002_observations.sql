-- Observations of shadowed requests (proxy/observation.ts). Written in batches by the proxy,
-- read by the report, pruned by age (proxy.observations.retentionHours).
CREATE TABLE IF NOT EXISTS observations (
    id                  bigserial PRIMARY KEY,
    observed_at         timestamptz NOT NULL,
    route_id            text NOT NULL,
    service             text NOT NULL,
    method              text NOT NULL,
    path                text NOT NULL,
    mode                text NOT NULL,
    serving_side        text NOT NULL CHECK (serving_side IN ('legacy', 'reimpl')),
    serving_status      integer,
    serving_latency_ms  double precision NOT NULL,
    serving_error       text,
    serving_body        text,
    shadow_side         text NOT NULL CHECK (shadow_side IN ('legacy', 'reimpl')),
    shadow_status       integer,
    shadow_latency_ms   double precision NOT NULL,
    shadow_error        text,
    shadow_body         text,
    verdict             text NOT NULL CHECK (verdict IN ('matched', 'mismatched', 'ignored', 'errored')),
    ignored_by          text[] NOT NULL DEFAULT '{}',
    errored_side        text CHECK (errored_side IN ('serving', 'shadow', 'both')),
    differences         jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS ix_observations_route_observed ON observations (route_id, observed_at DESC);
CREATE INDEX IF NOT EXISTS ix_observations_observed ON observations (observed_at);
