-- Chorus control surface, version 4. Installed after version 3; idempotent. Each section belongs to one concern.

-- ===== recovery: forced bootstrap after a majority of the voters was lost for good (DESIGN §7) =================
--
-- When 2 of 3 machines are destroyed, the survivor never forms a primary component by itself (NON_PRIMARY, writes
-- wait or stay local). chorus.bootstrap_plan() shows what restarting the group from this node alone would do and
-- lose; chorus.force_bootstrap() refuses with that assessment, and does it once confirmed: this node becomes the only
-- voter, the group's order continues from its log, the present voters are added back, and the missing ones come back
-- only by a full transfer. Refused while a primary component exists and while a present node is ahead of this one
-- (the group must restart from the highest position available: run it there). The sidecar publishes the plan every
-- second in chorus.node_state.bootstrap (JSON; null while the database has not joined its group); the confirmed
-- bootstrap is a request like enable(), performed after the caller's transaction commits: follow it with
-- chorus.wait_ready(). When the database cannot be reached that way, `chorus run --force-bootstrap` does the same at
-- the sidecar's start (docs/configuration.md).
-- ============================================================================================================

ALTER TABLE chorus.node_state ADD COLUMN IF NOT EXISTS bootstrap jsonb;

ALTER TABLE chorus.requests DROP CONSTRAINT IF EXISTS requests_kind_check;
ALTER TABLE chorus.requests ADD CONSTRAINT requests_kind_check
    CHECK (kind IN ('enable', 'disable', 'force_bootstrap'));

-- One row per member: what a forced bootstrap from this node does to it. watermark and log_gsn are the member's W and
-- log GSN as last announced (null when it announced nothing since this node joined: what it holds is unknown);
-- ahead_by is how many GSNs it holds beyond this node's log (lost when it is missing).
CREATE OR REPLACE FUNCTION chorus.bootstrap_plan()
RETURNS TABLE (node text, is_self boolean, voting boolean, present boolean, watermark bigint, log_gsn bigint,
               ahead_by bigint, fate text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM chorus._bootstrap_published();
    RETURN QUERY
    SELECT m.node, m.self, m.voter, m.present, m.watermark, m."logGsn", m."aheadBy", m.fate
      FROM chorus.node_state s,
           jsonb_to_recordset(s.bootstrap->'members') AS m(node text, self boolean, voter boolean, present boolean,
                                                           watermark bigint, "logGsn" bigint, "aheadBy" bigint,
                                                           fate text)
     ORDER BY m.node;
END
$$;

-- The published plan; raises what is missing when there is none to act on (no sidecar, not joined).
CREATE OR REPLACE FUNCTION chorus._bootstrap_published() RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    s chorus.node_state;
BEGIN
    SELECT * INTO s FROM chorus.node_state;
    IF chorus._sidecar_gone() THEN
        RAISE EXCEPTION '%', chorus._no_sidecar_message() USING ERRCODE = '55000',
            HINT = 'if the sidecar cannot start because the group has no majority, start it with: ./chorus run --config <node.yaml> --force-bootstrap';
    END IF;
    IF s.bootstrap IS NULL OR jsonb_typeof(s.bootstrap) <> 'object' THEN
        RAISE EXCEPTION 'chorus: database % is % (%) and has not joined a group: there is no group to bootstrap',
            current_database(), s.state, coalesce(s.phase, '-') USING ERRCODE = '55000',
            HINT = 'wait until chorus.status() says NON_PRIMARY (the node joined and waits for a majority), then try again';
    END IF;
    RETURN s.bootstrap;
END
$$;

-- Restarts the group from this node alone. Without confirm: raises the assessment (what would be kept and lost) and
-- changes nothing. With confirm => true: queues the forced bootstrap (the sidecar checks again before it acts) and
-- returns; SELECT chorus.wait_ready() then waits for ONLINE, or raises why it was refused or failed.
CREATE OR REPLACE FUNCTION chorus.force_bootstrap(confirm boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    plan jsonb := chorus._bootstrap_published();
    req bigint;
BEGIN
    IF plan->>'refused' IS NOT NULL THEN
        RAISE EXCEPTION 'chorus.force_bootstrap: %', plan->>'refused' USING ERRCODE = '55000',
            HINT = CASE WHEN (plan->>'primary')::boolean
                        THEN 'this node is in a primary component: nothing to force; see SELECT * FROM chorus.nodes()'
                        ELSE format('run SELECT chorus.force_bootstrap() on node %s: it holds more of the group''s history',
                                    plan->>'runOn') END;
    END IF;
    IF NOT coalesce(confirm, false) THEN
        RAISE EXCEPTION 'chorus.force_bootstrap: %', plan->>'unconfirmed' USING ERRCODE = '55000',
            DETAIL = 'per member: SELECT * FROM chorus.bootstrap_plan()',
            HINT = format('if the missing voters are lost for good, confirm on node %s: SELECT chorus.force_bootstrap(confirm => true); then SELECT chorus.wait_ready()',
                          plan->>'node');
    END IF;
    -- control writes never wait for synchronous replication: in sync mode it waits for this node's own capture
    PERFORM set_config('synchronous_commit', 'local', true);
    INSERT INTO chorus.requests (kind, group_name, options)
    SELECT 'force_bootstrap', s.group_name, jsonb_build_object('assessment', plan->>'assessment')
      FROM chorus.node_state s
    RETURNING id INTO req;
    PERFORM pg_notify('chorus_control', req::text);
    RETURN format('forced bootstrap of group %s from node %s queued as request %s; wait with SELECT chorus.wait_ready(). %s',
                  (SELECT s.group_name FROM chorus.node_state s), plan->>'node', req, plan->>'assessment');
END
$$;

INSERT INTO chorus.meta (key, value) VALUES ('schema_version', '4')
ON CONFLICT (key) DO UPDATE SET value = excluded.value;
