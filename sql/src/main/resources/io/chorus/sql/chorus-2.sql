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

-- Asks for a full transfer at the next start of replication in this database (chorus.enable() or a sidecar restart):
-- the node's tables are emptied and copied from a donor; its undelivered local commits are saved in
-- chorus.saved_commits first. A new node without the schema gets one without asking.
CREATE OR REPLACE FUNCTION chorus.request_full_transfer() RETURNS text
LANGUAGE sql VOLATILE AS $$
    INSERT INTO chorus.meta (key, value) VALUES ('transfer_incomplete', 'requested by the operator')
    ON CONFLICT (key) DO UPDATE SET value = excluded.value;
    SELECT format('full transfer requested for database %s: it runs at the next chorus.enable() or sidecar start; '
                  'this node''s tables are replaced by a donor''s copy', current_database());
$$;

-- ============================================================================================================
-- Section "ddl": DDL replicated in total order (DESIGN §6) and chorus.execute() (§5).
--
-- In a replicated database (chorus.meta enabled = true) an event trigger turns every DDL statement into a
-- TRANSACTIONAL logical message with prefix 'chorus_ddl', in the DDL's own transaction, so it is decoded in the same
-- changeset as the data, in statement order, and ordered with it. The message is JSON:
--   {"v":1, "sql": <statement text or null>, "search_path": ..., "role": ..., "tag": <command tag>,
--    "relations": [[schema, table], ...], "keyed": <bool>}
-- "sql" is the statement to run on the other nodes; it is null on the later events of a query string that was already
-- emitted (several DDL commands in one string): those messages only name more relations. "relations" are the tables
-- the command created, changed or dropped (old and new name for a rename). When "keyed", certification gives the DDL
-- a TABLE key on each, so concurrent DML on them that did not see the DDL loses (coordinator.certify). A DDL statement
-- is keyed unless a change written against the old definition still applies correctly after it: ADD/DROP COLUMN,
-- SET/DROP DEFAULT, a type change without USING, a non-unique index, comments and grants absorb such changes (the
-- applier drops the values of dropped columns); renames, DROP TABLE, new constraints, unique indexes, USING do not.
--
-- Which text is replicated: current_query() is the client's whole query string. A string with one statement is sent
-- as it is. A string with several statements is sent whole, once, when every statement in it is DDL; a string that
-- mixes DDL with anything else is refused (its DML is replicated as rows: running the string again would repeat it).
-- DDL run inside a function, procedure or DO block is refused (the text would be the call); chorus.execute() runs a
-- script statement by statement so each statement's own text is replicated. ALTER TABLE ... ADD COLUMN whose default
-- is not immutable (random(), now(), nextval(), CURRENT_TIMESTAMP) or that adds an identity column is refused: every
-- node would fill the existing rows with its own values.
--
-- Helpers (and any session with session_replication_role = replica) never emit: what they run is already ordered.
-- The trigger is ENABLE ALWAYS so that the per-node policies below also run in helpers, in the DDL's transaction:
-- new or changed tables with a primary key get REPLICA IDENTITY FULL (as ReplicaIdentityPolicy does at enable), and
-- new sequences step by 32 from this node's slot (chorus.meta sequence_slot, as SequencePolicy does at enable).
-- SET chorus.replicate_ddl = off makes a session's DDL node-local (the sidecar uses it for those policies).
-- Objects in schema chorus and temporary objects are never replicated.
-- ============================================================================================================

CREATE OR REPLACE FUNCTION chorus._replicated() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT value = 'true' FROM chorus.meta WHERE key = 'enabled'), false)
$$;

-- Splits SQL text into statements at top-level semicolons; quotes, dollar quotes and comments are honoured and
-- comments are left out. Empty statements are dropped.
CREATE OR REPLACE FUNCTION chorus._split_sql(script text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    out text[] := '{}';
    cur text := '';
    n int := length(script);
    i int := 1;
    ch text;
    nx text;
    j int;
    tag text;
    depth int;
BEGIN
    WHILE i <= n LOOP
        ch := substr(script, i, 1);
        nx := substr(script, i + 1, 1);
        IF ch = '-' AND nx = '-' THEN
            j := strpos(substr(script, i), E'\n');
            i := CASE WHEN j = 0 THEN n + 1 ELSE i + j - 1 END;
            cur := cur || ' ';
        ELSIF ch = '/' AND nx = '*' THEN
            depth := 1;
            i := i + 2;
            WHILE i <= n AND depth > 0 LOOP
                IF substr(script, i, 2) = '/*' THEN depth := depth + 1; i := i + 2;
                ELSIF substr(script, i, 2) = '*/' THEN depth := depth - 1; i := i + 2;
                ELSE i := i + 1;
                END IF;
            END LOOP;
            cur := cur || ' ';
        ELSIF ch = '''' OR ch = '"' THEN
            j := i + 1;
            LOOP
                EXIT WHEN j > n;
                IF ch = '''' AND substr(script, j, 1) = '\' AND i > 1 AND lower(substr(script, i - 1, 1)) = 'e' THEN
                    j := j + 2;
                ELSIF substr(script, j, 1) = ch AND substr(script, j + 1, 1) = ch THEN
                    j := j + 2;
                ELSIF substr(script, j, 1) = ch THEN
                    EXIT;
                ELSE
                    j := j + 1;
                END IF;
            END LOOP;
            cur := cur || substr(script, i, j - i + 1);
            i := j + 1;
        ELSIF ch = '$' AND substring(substr(script, i, 65) FROM '^(\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$)') IS NOT NULL THEN
            tag := substring(substr(script, i, 65) FROM '^(\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$)');
            j := strpos(substr(script, i + length(tag)), tag);
            j := CASE WHEN j = 0 THEN n + 1 ELSE i + length(tag) + j - 1 + length(tag) - 1 END;
            cur := cur || substr(script, i, j - i + 1);
            i := j + 1;
        ELSIF ch = ';' THEN
            IF btrim(cur, E' \t\r\n') <> '' THEN
                out := out || btrim(cur, E' \t\r\n');
            END IF;
            cur := '';
            i := i + 1;
        ELSE
            cur := cur || ch;
            i := i + 1;
        END IF;
    END LOOP;
    IF btrim(cur, E' \t\r\n') <> '' THEN
        out := out || btrim(cur, E' \t\r\n');
    END IF;
    RETURN out;
END
$$;

CREATE OR REPLACE FUNCTION chorus._first_word(stmt text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT lower(substring(stmt FROM '^[\s(]*([A-Za-z]+)'))
$$;

-- Statements whose text the trigger may replicate: the ones that fire event triggers.
CREATE OR REPLACE FUNCTION chorus._is_ddl_word(word text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT word IN ('create', 'alter', 'drop', 'comment', 'grant', 'revoke', 'security', 'import', 'refresh', 'reindex')
$$;

-- Emits one DDL message. SECURITY DEFINER so any role that may run DDL may emit it; the role recorded is checked to
-- be one the session may act as, so a helper never runs a statement with more rights than its origin session had.
-- "moves" adds what the statement did to tables by name: {"renamed": [[old schema, old table], [new schema, new table]],
-- "dropped": [[schema, table], ...]} (a change written before it reaches its origin after it: see DdlMessage).
DROP FUNCTION IF EXISTS chorus._emit_ddl(text, text, text, text, jsonb);
DROP FUNCTION IF EXISTS chorus._emit_ddl(text, text, text, text, jsonb, boolean);
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
         || coalesce(moves, '{}'::jsonb))::text);
END
$$;

-- ddl_command_start: remembers the current name of a table about to be renamed or moved (the end event only sees the
-- new name; concurrent writes under the old name must meet the DDL too).
CREATE OR REPLACE FUNCTION chorus._ddl_start() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    stmt text;
    target text;
    rel oid;
BEGIN
    IF tg_tag <> 'ALTER TABLE' OR current_setting('session_replication_role') = 'replica'
       OR coalesce(current_setting('chorus.policy_running', true), '') = 'on' OR NOT chorus._replicated() THEN
        RETURN;
    END IF;
    stmt := coalesce(nullif(current_setting('chorus.current_statement', true), ''), current_query());
    target := substring(stmt FROM '(?i)^\s*alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?((?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*))?)\s+(?:rename\s+to|set\s+schema)\M');
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

-- sql_drop: remembers the tables a DROP removed (the end event no longer sees them) and whether anything outside
-- schema chorus and temporary objects was dropped.
CREATE OR REPLACE FUNCTION chorus._ddl_drop() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    dropped jsonb;
    replicated_any boolean;
BEGIN
    IF current_setting('session_replication_role') = 'replica' OR NOT chorus._replicated() THEN
        RETURN;
    END IF;
    SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(d.schema_name, d.object_name))
                    FILTER (WHERE d.object_type IN ('table', 'foreign table') AND NOT d.is_temporary), '[]'),
           bool_or(NOT d.is_temporary AND coalesce(d.schema_name, '') <> 'chorus')
      INTO dropped, replicated_any
      FROM pg_event_trigger_dropped_objects() d;
    PERFORM set_config('chorus.ddl_dropped', jsonb_build_object('relations', dropped,
        'replicated', coalesce(replicated_any, false))::text, true);
END
$$;

-- The refusals: statements that cannot be replicated safely. Raises with the object, the reason and the fix.
CREATE OR REPLACE FUNCTION chorus._ddl_refuse(tag text, stmts text[], tables oid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    s text;
    transfer text := (SELECT value FROM chorus.meta WHERE key = 'transfer_incomplete');
BEGIN
    IF transfer IS NOT NULL THEN
        RAISE EXCEPTION 'chorus: % is refused on this node: its tables are being replaced by a full state transfer (%), '
            'and a statement run here now would be lost or break the copy', tag, transfer
            USING ERRCODE = '55000', HINT = 'run it on a node that is ONLINE (it reaches this one in total order once the '
                'transfer is done), or wait until SELECT chorus.wait_ready() returns here; chorus.status() shows the transfer''s progress';
    END IF;
    IF tag IN ('CREATE TABLE AS', 'SELECT INTO') THEN
        RAISE EXCEPTION 'chorus: % is not replicated: its rows would be created twice on the other nodes', tag
            USING ERRCODE = '0A000', HINT = 'create the table with a primary key, then fill it with INSERT ... SELECT';
    END IF;
    IF coalesce(array_length(stmts, 1), 0) <= 1 AND NOT coalesce(chorus._is_ddl_word(chorus._first_word(stmts[1])), false) THEN
        RAISE EXCEPTION 'chorus: % inside a function, procedure or DO block (statement: %) cannot be replicated', tag,
            left(coalesce(stmts[1], '?'), 200)
            USING ERRCODE = '0A000', HINT = 'run the DDL as a top-level statement, or through SELECT chorus.execute(''<script>'')';
    END IF;
    FOREACH s IN ARRAY stmts LOOP
        IF NOT chorus._is_ddl_word(chorus._first_word(s)) THEN
            RAISE EXCEPTION 'chorus: a query string that mixes DDL (%) with other statements (%) cannot be replicated', tag,
                left(s, 200)
                USING ERRCODE = '0A000', HINT = 'send the statements one at a time, or run the script through SELECT chorus.execute(''<script>'')';
        END IF;
    END LOOP;
    FOR t IN SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS name, c.relpersistence, c.relreplident, c.relkind,
                    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND (i.indisprimary OR i.indisreplident)) AS keyed
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.oid = ANY (tables) AND c.relkind IN ('r', 'p') AND c.relpersistence <> 't' LOOP
        IF t.relpersistence = 'u' THEN
            RAISE EXCEPTION 'chorus: table % is replicated and cannot be UNLOGGED: its changes would not reach the other nodes', t.name
                USING ERRCODE = '0A000', HINT = 'keep the table logged (ALTER TABLE ... SET LOGGED), or use a temporary table for node-local data';
        END IF;
        IF NOT t.keyed THEN
            RAISE EXCEPTION 'chorus: table % has no primary key; tables without a primary key cannot be replicated', t.name
                USING ERRCODE = '0A000', HINT = 'declare the primary key in CREATE TABLE (or keep it: ALTER TABLE ... ADD PRIMARY KEY (...))';
        END IF;
        IF t.relreplident = 'n' THEN
            RAISE EXCEPTION 'chorus: table % cannot be replicated with REPLICA IDENTITY NOTHING', t.name
                USING ERRCODE = '0A000', HINT = 'ALTER TABLE ... REPLICA IDENTITY DEFAULT (Chorus then sets FULL)';
        END IF;
    END LOOP;
    IF tag = 'ALTER TABLE' THEN
        PERFORM chorus._ddl_refuse_mutable_fill(stmts, tables);
    END IF;
END
$$;

-- Whether a column default gives each node its own value: it calls a function that is not IMMUTABLE (random(),
-- now(), clock_timestamp(), nextval(), ...) or reads the clock or the session (CURRENT_TIMESTAMP, CURRENT_USER, ...).
CREATE OR REPLACE FUNCTION chorus._mutable_expression(expr text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT code ~* '\m(current_timestamp|current_date|current_time|localtime|localtimestamp|current_user|session_user|current_role)\M'
        OR EXISTS (SELECT 1 FROM regexp_matches(code, '([a-z_][a-z0-9_$]*)\s*\(', 'gi') f(m)
                     JOIN pg_proc p ON p.proname = lower(f.m[1]) WHERE p.provolatile <> 'i')
      FROM (SELECT regexp_replace(expr, '''(?:[^'']|'''')*''', '''', 'g') AS code) x -- string literals are data
$$;

-- ALTER TABLE ... ADD COLUMN fills the existing rows on every node by itself: with a default that is not immutable,
-- or an identity or serial column (a sequence of each node's own), every node would store other values.
CREATE OR REPLACE FUNCTION chorus._ddl_refuse_mutable_fill(stmts text[], tables oid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT format('%I.%I', n.nspname, c.relname) AS rel, a.attname, a.attidentity,
               pg_get_expr(d.adbin, d.adrelid) AS expr
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
         WHERE c.oid = ANY (tables) AND c.relkind IN ('r', 'p')
           AND a.attname IN (
               SELECT CASE WHEN m[1] LIKE '"%' THEN replace(substr(m[1], 2, length(m[1]) - 2), '""', '"') ELSE lower(m[1]) END
                 FROM unnest(stmts) s, regexp_matches(s,
                      '\madd\s+(?:column\s+)?(?:if\s+not\s+exists\s+)?("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)', 'gi') m)
           AND (a.attidentity <> '' OR (d.adbin IS NOT NULL AND a.attgenerated = '' AND chorus._mutable_expression(pg_get_expr(d.adbin, d.adrelid))))
    LOOP
        RAISE EXCEPTION 'chorus: ALTER TABLE % ADD COLUMN % % would give the existing rows different values on each node',
            col.rel, quote_ident(col.attname),
            CASE WHEN col.attidentity <> '' THEN 'as an identity column' ELSE format('with default %s (not immutable)', col.expr) END
            USING ERRCODE = '0A000',
                  HINT = format('add the column without that default (ALTER TABLE %s ADD COLUMN %s <type>), fill it with an '
                         'UPDATE (replicated as rows), then ALTER TABLE %s ALTER COLUMN %s SET DEFAULT ... (or ADD GENERATED '
                         '... AS IDENTITY) for new rows', col.rel, quote_ident(col.attname), col.rel, quote_ident(col.attname));
    END LOOP;
END
$$;

-- The per-node policies, on this node's own terms (run in helpers too): REPLICA IDENTITY FULL for keyed tables,
-- node-safe steps for sequences.
-- Whether changes written against a table's old definition must lose to this DDL (see the section header).
CREATE OR REPLACE FUNCTION chorus._ddl_keyed(tag text, stmt text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE tag
        WHEN 'ALTER TABLE' THEN stmt ~* '\m(rename|schema|using|constraint|primary|unique|identity|attach|detach|inherit|logged|unlogged|exclude|references|check|generated)\M'
        WHEN 'CREATE INDEX' THEN stmt ~* '\munique\M'
        WHEN 'COMMENT' THEN false
        WHEN 'GRANT' THEN false
        WHEN 'REVOKE' THEN false
        ELSE true
    END
$$;

CREATE OR REPLACE FUNCTION chorus._ddl_policies(tables oid[], sequences oid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    slot int := (SELECT value::int FROM chorus.meta WHERE key = 'sequence_slot');
    step constant int := 32;
BEGIN
    PERFORM set_config('chorus.policy_running', 'on', true);
    FOR t IN SELECT c.oid::regclass AS rel FROM pg_class c
              WHERE c.oid = ANY (tables) AND c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND c.relreplident <> 'f'
                AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) LOOP
        EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', t.rel);
    END LOOP;
    IF slot IS NOT NULL THEN
        FOR t IN SELECT s.seqrelid::regclass AS rel, coalesce(q.last_value, q.start_value - q.increment_by) AS last,
                        s.seqincrement AS inc
                   FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                   JOIN pg_sequences q ON q.schemaname = n.nspname AND q.sequencename = c.relname
                  WHERE s.seqrelid = ANY (sequences) AND c.relpersistence = 'p' LOOP
            IF t.inc <> step OR mod(t.last, step) <> mod(slot, step) THEN
                EXECUTE format('ALTER SEQUENCE %s INCREMENT BY %s', t.rel, step);
                PERFORM setval(t.rel, (greatest(t.last, 0) / step + 1) * step + slot, false);
            END IF;
        END LOOP;
    END IF;
    PERFORM set_config('chorus.policy_running', '', true);
END
$$;

-- ddl_command_end: refusals, the message, the policies.
CREATE OR REPLACE FUNCTION chorus._ddl_end() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    helper boolean := current_setting('session_replication_role') = 'replica';
    local_only boolean := coalesce(current_setting('chorus.replicate_ddl', true), '') = 'off';
    stmt text := coalesce(nullif(current_setting('chorus.current_statement', true), ''), current_query());
    dropped jsonb := coalesce(nullif(current_setting('chorus.ddl_dropped', true), ''), '{}')::jsonb;
    old_rel jsonb := nullif(current_setting('chorus.ddl_old_relation', true), '')::jsonb;
    tables oid[];
    sequences oid[];
    relations jsonb;
    replicated_any boolean;
    stmts text[];
    once text;
    moves jsonb;
BEGIN
    IF coalesce(current_setting('chorus.policy_running', true), '') = 'on' OR NOT chorus._replicated() THEN
        RETURN;
    END IF;
    PERFORM set_config('chorus.ddl_dropped', '', true);
    PERFORM set_config('chorus.ddl_old_relation', '', true);
    -- an extension's own objects are created by its script on every node; they are not checked here
    SELECT array_agg(DISTINCT coalesce(i.indrelid, co.conrelid, tr.tgrelid, c.oid))
               FILTER (WHERE coalesce(i.indrelid, co.conrelid, tr.tgrelid, c.oid) IS NOT NULL AND NOT d.in_extension),
           array_agg(DISTINCT c.oid) FILTER (WHERE c.relkind = 'S'),
           bool_or(coalesce(d.schema_name, '') <> 'chorus' AND coalesce(d.schema_name, '') NOT LIKE 'pg\_temp%')
      INTO tables, sequences, replicated_any
      FROM pg_event_trigger_ddl_commands() d
      LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
      LEFT JOIN pg_index i ON i.indexrelid = c.oid
      LEFT JOIN pg_constraint co ON d.classid = 'pg_constraint'::regclass AND co.oid = d.objid
      LEFT JOIN pg_trigger tr ON d.classid = 'pg_trigger'::regclass AND tr.oid = d.objid;
    replicated_any := coalesce(replicated_any, false) OR coalesce((dropped->>'replicated')::boolean, false);
    IF NOT replicated_any THEN
        RETURN;
    END IF;
    IF NOT helper AND NOT local_only THEN
        stmts := chorus._split_sql(stmt);
        PERFORM chorus._ddl_refuse(tg_tag, stmts, tables);
        SELECT coalesce(jsonb_agg(DISTINCT r), '[]') INTO relations FROM (
            SELECT jsonb_build_array(n.nspname, c.relname) AS r
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.oid = ANY (tables) AND c.relkind IN ('r', 'p', 'f') AND c.relpersistence <> 't'
            UNION ALL SELECT jsonb_array_elements(coalesce(dropped->'relations', '[]'))
            UNION ALL SELECT old_rel WHERE old_rel IS NOT NULL) x;
        SELECT jsonb_strip_nulls(jsonb_build_object(
                   'renamed', (SELECT jsonb_build_array(old_rel, jsonb_build_array(n.nspname, c.relname))
                                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                WHERE old_rel IS NOT NULL AND c.oid = ANY (tables) AND c.relkind IN ('r', 'p', 'f')
                                  AND jsonb_build_array(n.nspname, c.relname) <> old_rel LIMIT 1),
                   'dropped', nullif(coalesce(dropped->'relations', '[]'), '[]')))
          INTO moves;
        -- one string is run once: later DDL events of the same string only add relations
        once := md5(stmt) || ':' || statement_timestamp() || ':' || coalesce(current_setting('chorus.execute_seq', true), '');
        IF coalesce(current_setting('chorus.ddl_emitted', true), '') = once THEN
            PERFORM chorus._emit_ddl(NULL, current_setting('search_path'), current_user::text, tg_tag, relations,
                                     chorus._ddl_keyed(tg_tag, stmt), moves);
        ELSE
            PERFORM set_config('chorus.ddl_emitted', once, true);
            PERFORM chorus._emit_ddl(array_to_string(stmts, E';\n'), current_setting('search_path'), current_user::text,
                                     tg_tag, relations, chorus._ddl_keyed(tg_tag, stmt), moves);
        END IF;
    END IF;
    PERFORM chorus._ddl_policies(tables, sequences);
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'chorus_ddl_start') THEN
        CREATE EVENT TRIGGER chorus_ddl_start ON ddl_command_start EXECUTE FUNCTION chorus._ddl_start();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'chorus_ddl_drop') THEN
        CREATE EVENT TRIGGER chorus_ddl_drop ON sql_drop EXECUTE FUNCTION chorus._ddl_drop();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'chorus_ddl_end') THEN
        CREATE EVENT TRIGGER chorus_ddl_end ON ddl_command_end EXECUTE FUNCTION chorus._ddl_end();
    END IF;
END
$$;
ALTER EVENT TRIGGER chorus_ddl_start ENABLE ALWAYS;
ALTER EVENT TRIGGER chorus_ddl_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER chorus_ddl_end ENABLE ALWAYS;

-- Runs a script in the caller's transaction, statement by statement, through the same path as typed DDL: each DDL
-- statement is replicated as its own text (even DDL a statement runs inside a function is refused, as when typed),
-- the rows the script writes are replicated as rows. Everything is ordered with the rest of the caller's transaction
-- when it commits, and applied on every node in that order. Returns a summary once the script ran here; the script
-- is durable and ordered when the caller's transaction commits. Transaction control and CONCURRENTLY (which cannot
-- run in a transaction) are refused.
CREATE OR REPLACE FUNCTION chorus.execute(script text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    stmts text[];
    s text;
    n int := 0;
    ddl int := 0;
    word text;
BEGIN
    IF script IS NULL OR array_length(chorus._split_sql(script), 1) IS NULL THEN
        RAISE EXCEPTION 'chorus.execute: the script is empty' USING ERRCODE = '22023';
    END IF;
    IF NOT chorus._replicated() THEN
        RAISE EXCEPTION 'chorus.execute: database % is not replicated, so the script would run on this node only', current_database()
            USING ERRCODE = '55000', HINT = 'enable replication first (SELECT chorus.enable(''<group>'')), or run the script directly';
    END IF;
    IF coalesce(current_setting('chorus.replicate_ddl', true), '') = 'off' THEN
        RAISE EXCEPTION 'chorus.execute: chorus.replicate_ddl is off in this session, so the script would not be replicated'
            USING ERRCODE = '55000', HINT = 'RESET chorus.replicate_ddl';
    END IF;
    stmts := chorus._split_sql(script);
    FOREACH s IN ARRAY stmts LOOP
        n := n + 1;
        word := chorus._first_word(s);
        IF word IN ('begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release', 'prepare') THEN
            RAISE EXCEPTION 'chorus.execute: statement % of % (%) controls the transaction; the script runs inside the caller''s transaction',
                n, array_length(stmts, 1), left(s, 200) USING ERRCODE = '25000', HINT = 'remove transaction control from the script';
        END IF;
        IF s ~* '\mconcurrently\M' AND word IN ('create', 'drop', 'reindex') THEN
            RAISE EXCEPTION 'chorus.execute: statement % of % (%) uses CONCURRENTLY, which cannot run inside a transaction',
                n, array_length(stmts, 1), left(s, 200) USING ERRCODE = '25001',
                HINT = 'run it as a top-level statement outside chorus.execute: it is replicated the same way';
        END IF;
        IF chorus._is_ddl_word(word) THEN
            ddl := ddl + 1;
        END IF;
        PERFORM set_config('chorus.current_statement', s, true);
        PERFORM set_config('chorus.execute_seq', n::text, true);
        BEGIN
            EXECUTE s;
        EXCEPTION WHEN OTHERS THEN
            PERFORM set_config('chorus.current_statement', '', true);
            RAISE EXCEPTION 'chorus.execute: statement % of % failed: %', n, array_length(stmts, 1), SQLERRM
                USING ERRCODE = SQLSTATE, DETAIL = left(s, 1000);
        END;
        PERFORM set_config('chorus.current_statement', '', true);
    END LOOP;
    PERFORM set_config('chorus.execute_seq', '', true);
    RETURN format('%s statement(s) run here (%s DDL); they are ordered with this transaction and applied on every node once it commits',
                  n, ddl);
END
$$;

INSERT INTO chorus.meta (key, value) VALUES ('schema_version', '2')
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- The membership detail of wait_ready's timeout error, for every state: a RAISE option must not be null (outside
-- NON_PRIMARY it was, and the timeout failed with "RAISE statement option cannot be null" instead of its message).
-- A node outside the primary component gets the majority explanation whatever its state (a joiner waits in
-- CATCHING_UP for a primary component to order its catch-up).
CREATE OR REPLACE FUNCTION chorus._membership_detail(s chorus.node_state) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN s.state = 'NON_PRIMARY'
                  OR (s.is_primary IS FALSE AND jsonb_array_length(coalesce(s.members, '[]'::jsonb)) > 0) THEN
        format('this node reaches %s of %s voting members of group %s (%s) and a majority is needed; '
               'unreachable: %s. Check that their sidecars run and that each of them ran SELECT chorus.enable(%L), '
               'and that group.members in node.yaml names the same addresses on every node',
               count(*) FILTER (WHERE m->>'state' <> 'UNREACHABLE'), count(*), s.group_name,
               string_agg(m->>'node' || '@' || (m->>'address'), ', ' ORDER BY m->>'node') FILTER (WHERE m->>'state' <> 'UNREACHABLE'),
               coalesce(string_agg(m->>'node' || '@' || (m->>'address'), ', ' ORDER BY m->>'node') FILTER (WHERE m->>'state' = 'UNREACHABLE'), 'none'),
               s.group_name)
    ELSE
        format('this node is %s in group %s; members: %s', coalesce(s.state, 'without a state'),
               coalesce(s.group_name, '-'),
               coalesce(string_agg(m->>'node' || '@' || (m->>'address') || ' ' || (m->>'state'), ', ' ORDER BY m->>'node'),
                        'none published yet'))
    END
      FROM jsonb_array_elements(coalesce(s.members, '[]'::jsonb)) m
$$;
