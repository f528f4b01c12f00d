-- Chorus control surface, version 1. Installed by the sidecar into each database it serves; idempotent.
-- Objects in schema chorus are local to each node: the capture never replicates them.
CREATE SCHEMA IF NOT EXISTS chorus;
COMMENT ON SCHEMA chorus IS 'Chorus update-everywhere replication: control surface and local bookkeeping';

CREATE TABLE IF NOT EXISTS chorus.meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- Requests from SQL to the sidecar (enable, disable). The sidecar reads them after commit (NOTIFY chorus_control).
CREATE TABLE IF NOT EXISTS chorus.requests (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('enable', 'disable')),
    group_name   text,
    options      jsonb NOT NULL DEFAULT '{}',
    requested_at timestamptz NOT NULL DEFAULT now(),
    state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    phase        text,
    error        text,
    updated_at   timestamptz
);

-- This node's state as the sidecar last published it (one row).
CREATE TABLE IF NOT EXISTS chorus.node_state (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    node         text,
    group_name   text,
    state        text NOT NULL DEFAULT 'OFFLINE',
    phase        text,
    view_id      text,
    members      jsonb NOT NULL DEFAULT '[]',
    is_primary   boolean NOT NULL DEFAULT false,
    mode         text,
    policy       text,
    watermark    bigint NOT NULL DEFAULT 0,
    delivered    bigint NOT NULL DEFAULT 0,
    queue_depth  integer NOT NULL DEFAULT 0,
    lag_gsn      bigint NOT NULL DEFAULT 0,
    lag_ms       bigint NOT NULL DEFAULT 0,
    conflicts    bigint NOT NULL DEFAULT 0,
    last_error   text,
    heartbeat    timestamptz,
    updated_at   timestamptz
);
INSERT INTO chorus.node_state (singleton) VALUES (true) ON CONFLICT DO NOTHING;

-- The conflict log: one row per lost row change, identical on every node for the same history.
CREATE TABLE IF NOT EXISTS chorus.conflicts (
    gsn          bigint NOT NULL,
    change_index integer NOT NULL,
    kind         text NOT NULL,
    loser_origin text NOT NULL,
    winner_gsn   bigint,
    winner_origin text,
    relation     text,
    key          text,
    cause_gsn    bigint,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (gsn, change_index)
);

-- Read barriers: sync_wait() asks through a non-transactional logical message; the sidecar answers here.
CREATE TABLE IF NOT EXISTS chorus.barriers (
    token      text PRIMARY KEY,
    gsn        bigint,
    applied_at timestamptz
);

-- Seconds since the sidecar last published its state; NULL when it never did.
CREATE OR REPLACE FUNCTION chorus._sidecar_age() RETURNS double precision
LANGUAGE sql STABLE AS $$
    SELECT extract(epoch FROM clock_timestamp() - heartbeat) FROM chorus.node_state
$$;

-- True when no sidecar has published for 15 s: it beats every second, but a busy machine can delay a few beats, and
-- leaving a group under load takes seconds.
CREATE OR REPLACE FUNCTION chorus._sidecar_gone() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(chorus._sidecar_age(), 1e9) > 15
$$;

CREATE OR REPLACE FUNCTION chorus._no_sidecar_message() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('no Chorus sidecar is serving database %I (%s); start it with: ./chorus run --config <node.yaml> '
                  '(postgres.databases must list %I)',
                  current_database(),
                  coalesce('last heartbeat ' || round(chorus._sidecar_age()::numeric, 1) || ' s ago', 'never seen'),
                  current_database())
$$;

-- Problems that make replication impossible, each with its fix; empty when the database can be enabled.
CREATE OR REPLACE FUNCTION chorus.preflight() RETURNS SETOF text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    keyless text;
BEGIN
    IF current_setting('wal_level') <> 'logical' THEN
        RETURN NEXT format('wal_level is %s, logical decoding needs logical: ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL',
                           current_setting('wal_level'));
    END IF;
    IF current_setting('track_commit_timestamp') <> 'on' THEN
        RETURN NEXT 'track_commit_timestamp is off: ALTER SYSTEM SET track_commit_timestamp = on; then restart PostgreSQL';
    END IF;
    IF (SELECT count(*) FROM pg_replication_slots) >= current_setting('max_replication_slots')::int THEN
        RETURN NEXT format('all %s replication slots are in use: ALTER SYSTEM SET max_replication_slots = %s; then restart PostgreSQL',
                           current_setting('max_replication_slots'), current_setting('max_replication_slots')::int + 4);
    END IF;
    SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY n.nspname, c.relname) INTO keyless
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND n.nspname NOT IN ('chorus', 'pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
       AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND (i.indisprimary OR i.indisreplident));
    IF keyless IS NOT NULL THEN
        RETURN NEXT format('tables without a primary key cannot be replicated: %s; add one (ALTER TABLE ... ADD PRIMARY KEY (...))', keyless);
    END IF;
END
$$;

-- Sync mode: a commit returns once its changeset is ordered, because this database's capture is a synchronous
-- standby that confirms a commit only when it is delivered back in total order. NULL when configured.
CREATE OR REPLACE FUNCTION chorus._sync_mode_problem() RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    standby text := 'chorus_capture_chorus_' || current_database();
    names text := current_setting('synchronous_standby_names');
BEGIN
    IF names !~ ('(^|[\s,("])' || regexp_replace(standby, '([^a-zA-Z0-9_])', '\\\1', 'g') || '($|[\s,)"])') THEN
        RETURN format('sync mode needs this database''s capture (application_name %s) among the synchronous standbys: '
                      'ALTER SYSTEM SET synchronous_standby_names = %L; SELECT pg_reload_conf();%s',
                      standby, CASE WHEN names = '' THEN standby ELSE 'FIRST n (' || standby || ', ...)' END,
                      CASE WHEN names = '' THEN '' ELSE format(' (it is %L now: keep the names it lists and require all of '
                           'them, n = their count)', names) END);
    END IF;
    IF current_setting('synchronous_commit') IN ('off', 'local') THEN
        RETURN format('synchronous_commit is %s, so commits would not wait: ALTER DATABASE %I SET synchronous_commit = on',
                      current_setting('synchronous_commit'), current_database());
    END IF;
    RETURN NULL;
END
$$;

-- Switches replication on for this database. Returns at once; the sidecar acts after this transaction commits.
-- Follow it with chorus.wait_ready() (in a new transaction) or chorus.status().
CREATE OR REPLACE FUNCTION chorus.enable(group_name text, bootstrap boolean DEFAULT false, mode text DEFAULT 'async')
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    problems text;
    req bigint;
    answer text;
BEGIN
    IF enable.group_name IS NULL OR enable.group_name !~ '^[a-z][a-z0-9_-]{0,62}$' THEN
        RAISE EXCEPTION 'chorus.enable: invalid group name %', coalesce(quote_literal(enable.group_name), 'NULL')
            USING HINT = 'use 1-63 characters of a-z, 0-9, _ or -, starting with a letter';
    END IF;
    IF mode NOT IN ('async', 'sync') THEN
        RAISE EXCEPTION 'chorus.enable: mode must be async or sync, got %', quote_literal(mode);
    END IF;
    IF mode = 'sync' THEN
        problems := chorus._sync_mode_problem();
        IF problems IS NOT NULL THEN
            RAISE EXCEPTION 'chorus.enable: mode sync is not possible yet in database %', current_database()
                USING DETAIL = problems;
        END IF;
    END IF;
    -- control writes never wait for synchronous replication: in sync mode it waits for this node's own capture
    PERFORM set_config('synchronous_commit', 'local', true);
    SELECT string_agg(p, E'\n') INTO problems FROM chorus.preflight() p;
    IF problems IS NOT NULL THEN
        RAISE EXCEPTION 'chorus.enable: database % cannot be replicated yet', current_database()
            USING DETAIL = problems;
    END IF;
    IF EXISTS (SELECT 1 FROM chorus.node_state s WHERE s.state NOT IN ('OFFLINE', 'FAILED') AND s.group_name IS NOT NULL
               AND s.group_name IS DISTINCT FROM enable.group_name) THEN
        RAISE EXCEPTION 'chorus.enable: database % already replicates in group %', current_database(),
            (SELECT s.group_name FROM chorus.node_state s) USING HINT = 'run SELECT chorus.disable() first';
    END IF;
    INSERT INTO chorus.requests (kind, group_name, options)
    VALUES ('enable', enable.group_name, jsonb_build_object('bootstrap', bootstrap, 'mode', mode))
    RETURNING id INTO req;
    PERFORM pg_notify('chorus_control', req::text);
    answer := format('enable of group %s queued as request %s; wait with SELECT chorus.wait_ready() or watch SELECT * FROM chorus.status()',
                     enable.group_name, req);
    IF chorus._sidecar_gone() THEN
        RAISE WARNING '%', chorus._no_sidecar_message();
        answer := answer || ' (warning: ' || chorus._no_sidecar_message() || ')';
    END IF;
    RETURN answer;
END
$$;

-- enable() and wait_ready() in one call: CALL chorus.enable_and_wait('mygroup', timeout => '2 min'). A procedure,
-- because the sidecar acts only after the request commits; so it must be called outside an explicit transaction.
CREATE OR REPLACE PROCEDURE chorus.enable_and_wait(group_name text, bootstrap boolean DEFAULT false,
                                                   mode text DEFAULT 'async', timeout interval DEFAULT '60 s')
LANGUAGE plpgsql AS $$
DECLARE
    answer text;
BEGIN
    answer := chorus.enable(group_name, bootstrap, mode);
    COMMIT;
    answer := chorus.wait_ready('ONLINE', timeout);
    RAISE NOTICE 'chorus: %', answer;
END
$$;

-- Leaves the group. keep_slot keeps the replication slot and origins (for a later rejoin).
CREATE OR REPLACE FUNCTION chorus.disable(keep_slot boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    req bigint;
BEGIN
    -- control writes never wait for synchronous replication: in sync mode it waits for this node's own capture
    PERFORM set_config('synchronous_commit', 'local', true);
    INSERT INTO chorus.requests (kind, group_name, options)
    SELECT 'disable', s.group_name, jsonb_build_object('keep_slot', keep_slot) FROM chorus.node_state s
    RETURNING id INTO req;
    PERFORM pg_notify('chorus_control', req::text);
    IF chorus._sidecar_gone() THEN
        RAISE WARNING '%', chorus._no_sidecar_message();
    END IF;
    RETURN format('disable queued as request %s; wait with SELECT chorus.wait_ready(''OFFLINE'')', req);
END
$$;

-- chorus._membership_detail(node_state), used by wait_ready's timeout error, is defined in chorus-2.sql.

-- Waits (up to timeout) until this node reaches the wanted state, reporting the failed phase and its cause.
CREATE OR REPLACE FUNCTION chorus.wait_ready(wanted text DEFAULT 'ONLINE', timeout interval DEFAULT '60 s')
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
    s chorus.node_state;
    r chorus.requests;
BEGIN
    LOOP
        SELECT * INTO s FROM chorus.node_state;
        SELECT * INTO r FROM chorus.requests ORDER BY id DESC LIMIT 1;
        IF r.state = 'failed' THEN
            RAISE EXCEPTION 'chorus: % of group % failed in phase %: %', r.kind, r.group_name, r.phase, r.error;
        END IF;
        -- a state published by a sidecar that is gone is no answer (OFFLINE needs no sidecar)
        IF chorus._sidecar_gone() AND wanted <> 'OFFLINE' THEN
            RAISE EXCEPTION '%', chorus._no_sidecar_message();
        END IF;
        IF s.state = wanted AND (r.id IS NULL OR r.state = 'done') THEN
            RETURN format('%s in group %s (W=%s)', s.state, coalesce(s.group_name, '-'), s.watermark);
        END IF;
        IF chorus._sidecar_gone() THEN
            RAISE EXCEPTION '%', chorus._no_sidecar_message();
        END IF;
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'chorus: not % after % in group %; state %, phase %, last error: %', wanted, timeout,
                coalesce(s.group_name, r.group_name, '-'), s.state, coalesce(r.phase, s.phase, '-'),
                coalesce(r.error, s.last_error, 'none')
                USING DETAIL = chorus._membership_detail(s);
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION chorus.status()
RETURNS TABLE (node text, group_name text, state text, phase text, view_id text, is_primary boolean, mode text,
               policy text, watermark bigint, delivered bigint, queue_depth integer, lag_gsn bigint, lag_ms bigint,
               conflicts bigint, members integer, last_error text, sidecar_age_s double precision)
LANGUAGE sql STABLE AS $$
    SELECT s.node, s.group_name,
           CASE WHEN chorus._sidecar_gone() AND s.state <> 'OFFLINE' THEN 'FAILED' ELSE s.state END,
           CASE WHEN chorus._sidecar_gone() THEN 'sidecar not running' ELSE s.phase END,
           s.view_id, s.is_primary, s.mode, s.policy, s.watermark, s.delivered, s.queue_depth, s.lag_gsn, s.lag_ms,
           s.conflicts, jsonb_array_length(s.members),
           CASE WHEN chorus._sidecar_gone() THEN chorus._no_sidecar_message() ELSE s.last_error END,
           chorus._sidecar_age()
      FROM chorus.node_state s
$$;

CREATE OR REPLACE FUNCTION chorus.nodes()
RETURNS TABLE (node text, address text, state text, is_leader boolean, is_self boolean, voting boolean)
LANGUAGE sql STABLE AS $$
    SELECT m->>'node', m->>'address', m->>'state', (m->>'leader')::boolean, (m->>'self')::boolean, (m->>'voting')::boolean
      FROM chorus.node_state s, jsonb_array_elements(s.members) m
$$;

-- Read barrier: returns the GSN it waited for once this node has applied everything ordered before the call.
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
    IF st NOT IN ('ONLINE', 'CATCHING_UP') THEN
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
            RAISE EXCEPTION 'chorus.sync_wait: not applied within %; barrier %', timeout,
                coalesce('ordered at GSN ' || b.gsn || ', this node applied ' || (SELECT watermark FROM chorus.node_state),
                         'not yet ordered (is this node in the primary component? see chorus.status())');
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;

INSERT INTO chorus.meta (key, value) VALUES ('schema_version', '1')
ON CONFLICT (key) DO UPDATE SET value = excluded.value;
