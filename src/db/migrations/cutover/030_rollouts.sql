-- Progressive rollouts (rollout/pg-rollout-store.ts): one row per rollout of a route, its steps,
-- where it is, and the last step analysis. At most one active (running or paused) per route.
CREATE TABLE IF NOT EXISTS rollouts (
    id                bigserial PRIMARY KEY,
    route_id          text NOT NULL,
    steps             int[] NOT NULL,
    step_index        int NOT NULL DEFAULT 0,
    step_duration_ms  bigint NOT NULL,
    checks            int NOT NULL,
    state             text NOT NULL CHECK (state IN ('running', 'paused', 'completed', 'rolled-back', 'aborted')),
    step_started_at   timestamptz NOT NULL,
    breaches          int NOT NULL DEFAULT 0,
    reason            text NOT NULL,
    actor             text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    last_analysis     jsonb
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_rollouts_active ON rollouts (route_id) WHERE state IN ('running', 'paused');
