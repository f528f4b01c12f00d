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

-- ===== read barrier through a partition ==========================================================================
--
-- sync_wait() waits up to its timeout while this node is outside the primary component (NON_PRIMARY): the barrier
-- is captured like a local commit, ordered after the heal and answered once applied here. It used to fail at once,
-- so a reader right after a heal could meet a passing NON_PRIMARY and fail although its barrier would have gone
-- through a moment later. A node that does not replicate (OFFLINE, JOINING, FAILED) still fails at once.
-- ============================================================================================================

CREATE OR REPLACE FUNCTION chorus.sync_wait(timeout interval DEFAULT '30 s') RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_token text := gen_random_uuid()::text;
    deadline timestamptz := clock_timestamp() + timeout;
    st text;
    b chorus.barriers;
BEGIN
    -- control writes never wait for synchronous replication: in sync mode it waits for this node's own capture
    PERFORM set_config('synchronous_commit', 'local', true);
    SELECT state INTO st FROM chorus.node_state;
    IF chorus._sidecar_gone() THEN
        RAISE EXCEPTION '%', chorus._no_sidecar_message();
    END IF;
    IF st NOT IN ('ONLINE', 'CATCHING_UP', 'NON_PRIMARY') THEN
        RAISE EXCEPTION 'chorus.sync_wait: database % is %, not replicating', current_database(), st
            USING HINT = 'enable replication with SELECT chorus.enable(''group''); see chorus.status() for the last error';
    END IF;
    -- the walsender decodes only flushed WAL: PostgreSQL 17 flushes the message on request; before 17 it is flushed
    -- by the next commit that flushes (the sidecar commits its state every second)
    IF current_setting('server_version_num')::int >= 170000 THEN
        EXECUTE 'SELECT pg_logical_emit_message(false, $1, $2, true)' USING 'chorus_sync_wait', v_token;
    ELSE
        PERFORM pg_logical_emit_message(false, 'chorus_sync_wait', v_token);
    END IF;
    LOOP
        SELECT * INTO b FROM chorus.barriers WHERE token = v_token;
        IF b.applied_at IS NOT NULL THEN
            DELETE FROM chorus.barriers WHERE token = v_token;
            RETURN b.gsn;
        END IF;
        IF clock_timestamp() > deadline THEN
            SELECT state INTO st FROM chorus.node_state;
            RAISE EXCEPTION 'chorus.sync_wait: not applied within %; barrier %', timeout,
                coalesce('ordered at GSN ' || b.gsn || ', this node applied ' || (SELECT watermark FROM chorus.node_state),
                         'not yet ordered (this node is ' || st || CASE WHEN st = 'NON_PRIMARY'
                             THEN ', outside the primary component: it is ordered once the group is whole again'
                             ELSE '' END || '; see chorus.status())');
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;

-- ===== apply: the hold's trigger waits outside PostgreSQL's lock queue ==========================================
--
-- Local write statements on replicated tables pass chorus._transfer_hold() (a statement trigger), which takes the hold's
-- advisory lock shared; a donor exporting a snapshot and an applier re-run that local commits raced take it exclusively
-- for a moment. A statement that meets the hold waits by polling the lock, never in the lock queue: it already holds
-- its table's ROW EXCLUSIVE lock and maybe row locks of earlier statements (SELECT ... FOR UPDATE), and a holder that
-- needs one of them must be the side that gives way (its lock waits are bounded) — in the queue, PostgreSQL's deadlock
-- detector could pick the local transaction instead. While it waits, pg_stat_activity shows it in PgSleep. A try
-- while a holder waits for the lock fails, so a hold is not starved by a stream of new statements.
CREATE OR REPLACE FUNCTION chorus._transfer_hold() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    refused text;
    pause float8 := 0.001;
BEGIN
    WHILE NOT pg_catalog.pg_try_advisory_xact_lock_shared(7163097744720199682) LOOP
        -- bounded by the holder: a donor's hold lasts a snapshot export, an applier's one transaction
        PERFORM pg_catalog.pg_sleep(pause);
        pause := least(pause OPERATOR(pg_catalog.*) 2, 0.01);
    END LOOP;
    SELECT m.value INTO refused FROM chorus.meta m WHERE m.key OPERATOR(pg_catalog.=) 'local_writes_refused';
    IF refused IS NOT NULL THEN
        RAISE EXCEPTION 'chorus: % on %.% is refused: database % is receiving a full state transfer (%), and a local '
            'write now would be lost', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME, pg_catalog.current_database(), refused
            USING ERRCODE = '25006', HINT = 'write on a node that is ONLINE (the change reaches this one once it is '
                'ONLINE), or wait until SELECT chorus.wait_ready() returns here; chorus.status() shows the transfer''s '
                'progress';
    END IF;
    RETURN NULL;
END
$$;

-- ===== ddl: column renames reach the statement's origin's applier ==============================================
--
-- A remote change ordered before an ALTER TABLE ... RENAME COLUMN of this node, and not seen by it, reaches this node
-- after the statement ran here and still names the column as it was. The statement's message says which columns it
-- renamed ("columns_renamed": [[schema, table, old name, new name], ...]) so the applier writes such a change under
-- the new names, as it does for a renamed table. The start trigger remembers the table's column names by number
-- before any ALTER TABLE ... RENAME; the message compares them with the names after.
CREATE OR REPLACE FUNCTION chorus._ddl_start() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    stmt text;
    target text;
    rel oid;
    name_re constant text := '((?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*))?)';
BEGIN
    IF tg_tag <> 'ALTER TABLE' THEN
        RETURN;
    END IF;
    PERFORM set_config('chorus.ddl_old_columns', '', true);
    IF current_setting('session_replication_role') = 'replica'
       OR coalesce(current_setting('chorus.policy_running', true), '') = 'on' OR NOT chorus._replicated() THEN
        RETURN;
    END IF;
    stmt := coalesce(nullif(current_setting('chorus.current_statement', true), ''), current_query());
    target := substring(stmt FROM '(?i)^\s*alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?' || name_re
                                  || '\s*\*?\s+rename\M');
    IF target IS NOT NULL THEN
        rel := to_regclass(target);
        IF rel IS NOT NULL THEN
            PERFORM set_config('chorus.ddl_old_columns', jsonb_build_object('rel', rel::bigint, 'columns',
                (SELECT jsonb_object_agg(a.attnum::text, a.attname) FROM pg_attribute a
                  WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped))::text, true);
        END IF;
    END IF;
    target := substring(stmt FROM '(?i)^\s*alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?' || name_re
                                  || '\s+(?:rename\s+to|set\s+schema)\M');
    IF target IS NULL THEN
        RETURN;
    END IF;
    rel := to_regclass(target);
    IF rel IS NOT NULL THEN
        PERFORM set_config('chorus.ddl_old_relation',
            (SELECT jsonb_build_array(n.nspname, c.relname)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.oid = rel), true);
    END IF;
END
$$;

-- The columns the ALTER TABLE ... RENAME starting before renamed: [[schema, table, old, new], ...], or null.
CREATE OR REPLACE FUNCTION chorus._ddl_renamed_columns() RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    old jsonb := nullif(current_setting('chorus.ddl_old_columns', true), '')::jsonb;
    renamed jsonb;
BEGIN
    IF old IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('chorus.ddl_old_columns', '', true);
    SELECT jsonb_agg(jsonb_build_array(n.nspname, c.relname, o.value #>> '{}', a.attname) ORDER BY a.attnum)
      INTO renamed
      FROM jsonb_each(old->'columns') o
      JOIN pg_attribute a ON a.attrelid = (old->>'rel')::oid AND a.attnum = o.key::int AND NOT a.attisdropped
      JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE a.attname <> o.value #>> '{}';
    RETURN renamed;
END
$$;

CREATE OR REPLACE FUNCTION chorus._emit_ddl(stmt text, search_path text, role_name text, tag text, relations jsonb,
                                           keyed boolean, moves jsonb)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT pg_has_role(session_user, role_name, 'MEMBER') THEN
        RAISE EXCEPTION 'chorus: session % may not act as role %: the DDL cannot be replicated', session_user, role_name
            USING ERRCODE = '42501';
    END IF;
    PERFORM pg_logical_emit_message(true, 'chorus_ddl',
        (jsonb_build_object('v', 1, 'sql', stmt, 'search_path', search_path, 'role', role_name, 'tag', tag,
                            'relations', coalesce(relations, '[]'::jsonb), 'keyed', keyed)
         || jsonb_strip_nulls(jsonb_build_object('intent', nullif(current_setting('chorus.ddl_intent', true), ''),
                                                 'columns_renamed', chorus._ddl_renamed_columns()))
         || coalesce(moves, '{}'::jsonb))::text);
END
$$;
