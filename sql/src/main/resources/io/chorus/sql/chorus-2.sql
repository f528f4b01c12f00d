-- Chorus control surface, version 2. Installed after version 1; idempotent. Each section belongs to one concern.

-- ===== recovery: state transfer, rejoin, whole-cluster restart (DESIGN §7) =====

-- Holds this node's local writers while it exports a snapshot for a joining node. The donor installs it as a
-- statement trigger on every replicated table (in replica mode, so it is never replicated) and takes the advisory
-- lock exclusively for a moment; helpers run in replica mode, where ordinary triggers do not fire, so applying goes on.
CREATE OR REPLACE FUNCTION chorus._transfer_hold() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7163097744720199682);
    RETURN NULL;
END
$$;

-- Local commits that never reached the group's order before a full transfer replaced this database's data, saved as
-- SQL for the operator (one row per transaction). Reported by chorus.status() (last_error) until acknowledged.
CREATE TABLE IF NOT EXISTS chorus.saved_commits (
    id          bigserial PRIMARY KEY,
    saved_at    timestamptz NOT NULL DEFAULT now(),
    commit_lsn  text NOT NULL,
    commit_time timestamptz,
    statements  text NOT NULL,
    reason      text NOT NULL
);

INSERT INTO chorus.meta (key, value) VALUES ('schema_version', '2')
ON CONFLICT (key) DO UPDATE SET value = excluded.value;
