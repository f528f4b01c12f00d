-- Chorus control surface, version 3. Installed after version 2; idempotent. Each section belongs to one concern.

-- ===== ddl: DDL ordered before it runs; the schema fingerprint (DESIGN §6) =====================================
--
-- Two nodes running DDL on one table at the same moment each ran their own statement first, so the origin of the
-- statement ordered later ran the two in the other order (concurrent ADD COLUMNs got another column order there).
-- Now a DDL transaction is ordered before its first statement runs, as Galera's total order isolation and PGD's
-- global DDL lock do: the start trigger asks the sidecar for a DDL intent (a read barrier whose token is
-- 'ddl:<id>:<xid>:<backend pid>:<statement start, microseconds>'), and waits until the group ordered it and every intent ordered before it has ended here: its
-- DDL changeset was applied, or its origin released it (its transaction ended without one). The DDL then runs, and
-- its messages name the intent ("intent": <id>), whose delivery ends it. One intent per transaction (later DDL of
-- the same transaction runs at once). The wait is bounded by chorus.ddl_order_timeout (default 60 s) and fails
-- naming what it waited for. Not ordered: helpers, chorus.replicate_ddl = off, temporary tables, databases that are
-- not replicated, and sessions with chorus.ddl_order = off (for tools that serialise their DDL across the nodes
-- themselves: concurrent DDL on one table may then end in different column orders). Refused: DDL on a node that is not ONLINE, and DDL in a REPEATABLE READ or SERIALIZABLE transaction
-- (its snapshot would never see the answer).
-- ============================================================================================================

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
         || jsonb_strip_nulls(jsonb_build_object('intent', nullif(current_setting('chorus.ddl_intent', true), '')))
         || coalesce(moves, '{}'::jsonb))::text);
END
$$;

-- Asks the sidecar for a DDL intent: a non-transactional message, decoded at once. SECURITY DEFINER so any role that
-- may run DDL may ask. The walsender decodes only flushed WAL: PostgreSQL 17 flushes the message on request; before 17
-- it is flushed by the next commit that flushes (the sidecar commits its state every second).
CREATE OR REPLACE FUNCTION chorus._emit_intent(token text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF token !~ '^ddl:[0-9a-f-]+:[0-9]+:[0-9]+:[0-9]+$' THEN
        RAISE EXCEPTION 'chorus: malformed DDL intent token %', token USING ERRCODE = '22023';
    END IF;
    IF current_setting('server_version_num')::int >= 170000 THEN
        EXECUTE 'SELECT pg_logical_emit_message(false, $1, $2, true)' USING 'chorus_sync_wait', token;
    ELSE
        PERFORM pg_logical_emit_message(false, 'chorus_sync_wait', token);
    END IF;
END
$$;

-- Whether the DDL statement starting now must be ordered first (see the section header).
CREATE OR REPLACE FUNCTION chorus._ddl_needs_order(stmt text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT current_setting('session_replication_role') <> 'replica'
       AND coalesce(current_setting('chorus.replicate_ddl', true), '') <> 'off'
       AND coalesce(current_setting('chorus.policy_running', true), '') <> 'on'
       AND coalesce(current_setting('chorus.ddl_intent', true), '') = ''
       AND coalesce(current_setting('chorus.ddl_order', true), '') <> 'off'
       AND stmt !~* '^\s*create\s+(?:(?:global|local)\s+)?(?:temp|temporary)\M'
       AND chorus._replicated()
$$;

-- ddl_command_start: orders the transaction's DDL before its first statement runs.
CREATE OR REPLACE FUNCTION chorus._ddl_order_start() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    stmt text := coalesce(nullif(current_setting('chorus.current_statement', true), ''), current_query());
    timeout interval := coalesce(nullif(current_setting('chorus.ddl_order_timeout', true), ''), '60 s')::interval;
    deadline timestamptz := clock_timestamp() + timeout;
    v_id text := gen_random_uuid()::text;
    v_token text;
    st text;
    b chorus.barriers;
BEGIN
    IF NOT chorus._ddl_needs_order(stmt) THEN
        RETURN;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'chorus: % cannot be ordered in a % transaction: DDL waits for the group''s DDL order, which its snapshot would never see',
            tg_tag, upper(current_setting('transaction_isolation'))
            USING ERRCODE = '0A000', HINT = 'run the DDL in a READ COMMITTED transaction';
    END IF;
    SELECT state INTO st FROM chorus.node_state;
    IF chorus._sidecar_gone() THEN
        RAISE EXCEPTION 'chorus: % cannot be ordered: %', tg_tag, chorus._no_sidecar_message() USING ERRCODE = '55000';
    END IF;
    IF st IS DISTINCT FROM 'ONLINE' THEN
        RAISE EXCEPTION 'chorus: % cannot be ordered while database % is %: DDL runs only on a node ONLINE in the primary component, so that every node runs it at the same place in the group''s order',
            tg_tag, current_database(), coalesce(st, 'without a state') USING ERRCODE = '55000',
            HINT = 'wait until SELECT chorus.wait_ready() returns, then run the DDL again; see chorus.status()';
    END IF;
    -- the transaction, and the statement (a CREATE INDEX CONCURRENTLY goes on after its first transaction committed)
    v_token := format('ddl:%s:%s:%s:%s', v_id, pg_current_xact_id(), pg_backend_pid(),
                      (extract(epoch FROM statement_timestamp()) * 1000000)::bigint);
    PERFORM chorus._emit_intent(v_token);
    LOOP
        SELECT * INTO b FROM chorus.barriers WHERE token = v_token;
        EXIT WHEN b.applied_at IS NOT NULL;
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'chorus: % was not ordered within % (DDL intent %): %', tg_tag, timeout, v_id,
                coalesce('the group ordered it at GSN ' || b.gsn || ' but this node has not applied the DDL ordered before it',
                         'an earlier DDL transaction of the group has not ended yet, or this node is not in the primary component')
                USING ERRCODE = '55P03',
                HINT = 'an open transaction that ran DDL on some node holds every later DDL: commit or roll it back, then run the DDL again (SET chorus.ddl_order_timeout raises the wait)';
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
    DELETE FROM chorus.barriers WHERE token = v_token;
    PERFORM set_config('chorus.ddl_intent', v_id, true);
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'chorus_ddl_order') THEN
        CREATE EVENT TRIGGER chorus_ddl_order ON ddl_command_start EXECUTE FUNCTION chorus._ddl_order_start();
    END IF;
END
$$;
ALTER EVENT TRIGGER chorus_ddl_order ENABLE ALWAYS;

-- The schema fingerprint (SHA-256 of a sorted description: tables, columns in order with type and nullability, keys,
-- unique indexes, foreign keys). The sidecar records it at start and after every DDL that commits here; compare it
-- across nodes, and diff the description lines where it differs. A full transfer refuses a joiner whose schema still
-- differs from the donor's after the missing tables were created, naming each difference.
CREATE OR REPLACE FUNCTION chorus.schema_fingerprint() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT value::jsonb->>'sha256' FROM chorus.meta WHERE key = 'schema_fingerprint'
$$;

CREATE OR REPLACE FUNCTION chorus.schema_description() RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    SELECT jsonb_array_elements_text(value::jsonb->'lines') FROM chorus.meta WHERE key = 'schema_fingerprint'
$$;

INSERT INTO chorus.meta (key, value) VALUES ('schema_version', '3')
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- ===== recovery: local writes while a full transfer replaces the tables (DESIGN §7) =====

-- The transfer hold trigger (every replicated table, installed in replica mode so helpers and the transfer's copy never
-- fire it) also refuses local writes while chorus.meta holds 'local_writes_refused': from the moment a node starts
-- receiving a full transfer until its capture's new slot exists. A write then would be emptied by the copy, or commit
-- before the slot and never reach the group. SECURITY DEFINER: any writing role may read the flag; every name and the
-- operator are qualified, so a caller's search_path cannot redirect them.
CREATE OR REPLACE FUNCTION chorus._transfer_hold() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    refused text;
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(7163097744720199682);
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

-- The members as this node sees them, with the W each announced beside the log (the watermark exchange of a
-- whole-cluster restart: null for a member that is not present or announced none yet). A new result column needs the
-- function dropped first.
DROP FUNCTION IF EXISTS chorus.nodes();
CREATE FUNCTION chorus.nodes()
RETURNS TABLE (node text, address text, state text, is_leader boolean, is_self boolean, voting boolean, watermark bigint)
LANGUAGE sql STABLE AS $$
    SELECT m->>'node', m->>'address', m->>'state', (m->>'leader')::boolean, (m->>'self')::boolean,
           (m->>'voting')::boolean, (m->>'watermark')::bigint
      FROM chorus.node_state s, jsonb_array_elements(s.members) m
$$;
