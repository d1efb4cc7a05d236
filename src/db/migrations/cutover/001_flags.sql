-- Route flags, the global kill switch and the append-only audit log of every change to them
-- (issue 6, docs/decisions/0003-flag-store.md). Writers send NOTIFY cutover_flags in the same
-- transaction as the change, so listeners reload only what was committed.

CREATE TABLE cutover.route_flags (
  route_id   text PRIMARY KEY,
  mode       text NOT NULL CHECK (mode IN ('legacy', 'shadow', 'canary', 'reimpl', 'retired')),
  -- Share served by the reimplementation in canary mode; 0 in every other mode.
  percent    smallint NOT NULL DEFAULT 0 CHECK (percent BETWEEN 0 AND 100 AND (mode = 'canary' OR percent = 0)),
  owner      text NOT NULL CHECK (owner <> ''),
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL
);

-- One row, always present: `engaged` sends every route to legacy.
CREATE TABLE cutover.kill_switch (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  engaged    boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL
);
INSERT INTO cutover.kill_switch (singleton, engaged, updated_by) VALUES (true, false, 'migration 001');

-- Who changed what, when, from which state to which, and why. route_id '*' is the kill switch;
-- states are a mode, `canary:<percent>`, or `on`/`off` for the kill switch.
CREATE TABLE cutover.flag_audit (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor      text NOT NULL CHECK (btrim(actor) <> ''),
  route_id   text NOT NULL,
  from_state text NOT NULL,
  to_state   text NOT NULL,
  reason     text NOT NULL CHECK (btrim(reason) <> '')
);
CREATE INDEX ix_flag_audit_route_id ON cutover.flag_audit (route_id, id);

CREATE FUNCTION cutover.refuse_audit_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'cutover.flag_audit is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER flag_audit_append_only BEFORE UPDATE OR DELETE ON cutover.flag_audit
  FOR EACH ROW EXECUTE FUNCTION cutover.refuse_audit_rewrite();
CREATE TRIGGER flag_audit_no_truncate BEFORE TRUNCATE ON cutover.flag_audit
  FOR EACH STATEMENT EXECUTE FUNCTION cutover.refuse_audit_rewrite();
