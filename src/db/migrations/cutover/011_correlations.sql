-- Job-id correlations of stateful shadowing (proxy/correlation-store-pg.ts): the id the serving
-- side answered a shadowed `/run` with, paired with the id the shadow side answered, so every
-- proxy worker (and a restarted proxy) sends a later `/status/A` to the shadow as `/status/B`.
CREATE TABLE IF NOT EXISTS correlations (
    serving_side  text NOT NULL CHECK (serving_side IN ('legacy', 'reimpl')),
    serving_id    text NOT NULL,
    shadow_id     text NOT NULL,
    name          text NOT NULL,
    route_id      text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (serving_side, serving_id)
);
CREATE INDEX IF NOT EXISTS ix_correlations_expires ON correlations (expires_at);
