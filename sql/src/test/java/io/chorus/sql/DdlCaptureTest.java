package io.chorus.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The DDL event triggers and chorus.execute() against a real server: what is emitted (read back from a test_decoding
 * slot, in WAL order with the data), what is refused and with which message, and the per-node policies.
 */
class DdlCaptureTest {
    private static final AtomicInteger DBS = new AtomicInteger();
    private static PgServer pg;

    @BeforeAll
    static void start() {
        pg = PgServer.start("ddl");
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    /** A fresh database with the surface installed, marked replicated, sequence slot 3, and a decoding slot. */
    private static Connection replicated() throws SQLException {
        String db = "ddl" + DBS.incrementAndGet();
        pg.createDatabase(db);
        // the simple query protocol sends a multi-statement string as one query string, as psql -c does
        Connection c = DriverManager.getConnection(pg.jdbcUrl(db) + "&preferQueryMode=simple");
        SqlSurface.install(c);
        exec(c, "INSERT INTO chorus.meta VALUES ('enabled', 'true'), ('sequence_slot', '3')");
        exec(c, "SELECT pg_create_logical_replication_slot('t_" + db + "', 'test_decoding')");
        exec(c, "SET chorus.ddl_order = off"); // no sidecar here to order the DDL before it runs
        return c;
    }

    @Test
    void typedDdlIsEmittedInOrderWithTheDataAndCarriesPathRoleAndRelations() throws SQLException {
        try (Connection c = replicated()) {
            exec(c, "CREATE TABLE t(id int PRIMARY KEY, v text)");
            c.setAutoCommit(false);
            exec(c, "INSERT INTO t VALUES (1, 'a')");
            exec(c, "ALTER TABLE t ADD COLUMN w int DEFAULT 7");
            exec(c, "INSERT INTO t VALUES (2, 'b')");
            c.commit();
            c.setAutoCommit(true);
            List<String> out = decoded(c);
            assertThat(ddl(out)).hasSize(2);
            String create = ddl(out).get(0);
            assertThat(create).contains("\"sql\": \"CREATE TABLE t(id int PRIMARY KEY, v text)\"")
                    .contains("\"tag\": \"CREATE TABLE\"").contains("\"role\": \"" + user(c) + "\"")
                    .contains("\"search_path\": \"\\\"$user\\\", public\"").contains("\"relations\": [[\"public\", \"t\"]]");
            // the REPLICA IDENTITY FULL the policy ran inside the CREATE is not emitted on its own
            int insert1 = indexOf(out, "id[integer]:1");
            int alter = indexOf(out, "ADD COLUMN w int DEFAULT 7");
            int insert2 = indexOf(out, "id[integer]:2");
            assertThat(insert1).isLessThan(alter);
            assertThat(alter).isLessThan(insert2);
            assertThat(out.get(insert2)).contains("w[integer]:7");
            assertThat(out.get(alter)).contains("\"keyed\": false");
            assertThat(query(c, "SELECT chorus._ddl_keyed('ALTER TABLE', 'ALTER TABLE t ALTER c TYPE int USING c::int') "
                    + "AND chorus._ddl_keyed('CREATE INDEX', 'CREATE UNIQUE INDEX i ON t(c)') "
                    + "AND NOT chorus._ddl_keyed('ALTER TABLE', 'ALTER TABLE t DROP COLUMN c, ALTER d TYPE bigint')"))
                    .isEqualTo("t");
        }
    }

    @Test
    void newTablesGetReplicaIdentityFullAndNewSequencesTheNodesSlot() throws SQLException {
        try (Connection c = replicated()) {
            exec(c, "CREATE TABLE s(id serial PRIMARY KEY, n bigint GENERATED ALWAYS AS IDENTITY UNIQUE)");
            exec(c, "CREATE SEQUENCE free_seq");
            assertThat(query(c, "SELECT relreplident FROM pg_class WHERE oid = 's'::regclass")).isEqualTo("f");
            assertThat(query(c, "SELECT string_agg(sequencename || ':' || increment_by, ',' ORDER BY sequencename) "
                    + "FROM pg_sequences WHERE schemaname = 'public'")).isEqualTo("free_seq:32,s_id_seq:32,s_n_seq:32");
            assertThat(query(c, "SELECT nextval('free_seq') || ',' || nextval('free_seq')")).isEqualTo("35,67");
            exec(c, "INSERT INTO s DEFAULT VALUES");
            assertThat(query(c, "SELECT id || ',' || n FROM s")).isEqualTo("35,35");
        }
    }

    @Test
    void multiStatementStringsOfDdlAreEmittedOnceAndMixedOnesRefused() throws SQLException {
        try (Connection c = replicated()) {
            exec(c, "CREATE TABLE a(id int PRIMARY KEY); /* two */ CREATE TABLE b(id int PRIMARY KEY, s text DEFAULT 'x;y')");
            List<String> msgs = ddl(decoded(c));
            assertThat(msgs).hasSize(2);
            assertThat(msgs.get(0)).contains("CREATE TABLE a(id int PRIMARY KEY);\\nCREATE TABLE b(id int PRIMARY KEY, s text DEFAULT 'x;y')");
            assertThat(msgs.get(1)).contains("\"sql\": null").contains("[\"public\", \"b\"]");
            assertThatThrownBy(() -> exec(c, "INSERT INTO a VALUES (1); ALTER TABLE a ADD COLUMN x int"))
                    .hasMessageContaining("a query string that mixes DDL (ALTER TABLE) with other statements (INSERT INTO a VALUES (1))")
                    .hasMessageContaining("chorus.execute");
            assertThat(query(c, "SELECT count(*) FROM a")).isEqualTo("0");
        }
    }

    @Test
    void ddlThatCannotBeOrderedFirstIsRefusedNamingWhyAndTheFix() throws SQLException {
        try (Connection c = replicated()) {
            exec(c, "RESET chorus.ddl_order");
            assertThatThrownBy(() -> exec(c, "CREATE TABLE o(id int PRIMARY KEY)"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55000"))
                    .hasMessageContaining("CREATE TABLE cannot be ordered: no Chorus sidecar is serving database");
            exec(c, "UPDATE chorus.node_state SET state = 'ONLINE', heartbeat = clock_timestamp()");
            exec(c, "SET chorus.ddl_order_timeout = '200 ms'");
            assertThatThrownBy(() -> exec(c, "CREATE TABLE o(id int PRIMARY KEY)"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55P03"))
                    .hasMessageContaining("CREATE TABLE was not ordered within 00:00:00.2 (DDL intent ")
                    .hasMessageContaining("an earlier DDL transaction of the group has not ended yet")
                    .hasMessageContaining("commit or roll it back, then run the DDL again");
            assertThat(decoded(c)).as("the intent asked for, though nobody answered it")
                    .anySatisfy(l -> assertThat(l).matches("message: transactional: 0 prefix: chorus_sync_wait, sz: \\d+ "
                            + "content:ddl:[0-9a-f-]{36}:\\d+:\\d+:\\d+"));
            exec(c, "UPDATE chorus.node_state SET state = 'NON_PRIMARY', heartbeat = clock_timestamp()");
            assertThatThrownBy(() -> exec(c, "CREATE TABLE o(id int PRIMARY KEY)"))
                    .hasMessageContaining("cannot be ordered while database").hasMessageContaining("is NON_PRIMARY")
                    .hasMessageContaining("ONLINE in the primary component");
            c.setAutoCommit(false);
            exec(c, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            assertThatThrownBy(() -> exec(c, "CREATE TABLE o(id int PRIMARY KEY)"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("0A000"))
                    .hasMessageContaining("CREATE TABLE cannot be ordered in a REPEATABLE READ transaction")
                    .hasMessageContaining("READ COMMITTED");
            c.rollback();
            c.setAutoCommit(true);
            exec(c, "CREATE TEMP TABLE scratch(x int)"); // temporary objects are this session's: never ordered
            assertThat(ddl(decoded(c))).isEmpty();
        }
    }

    @Test
    void unsafeStatementsAreRefusedNamingTheObjectAndTheFix() throws SQLException {
        try (Connection c = replicated()) {
            exec(c, "CREATE TABLE k(id int PRIMARY KEY)");
            assertThatThrownBy(() -> exec(c, "CREATE TABLE nokey(x int)")).satisfies(e -> assertThat(
                    ((SQLException) e).getSQLState()).isEqualTo("0A000"))
                    .hasMessageContaining("table public.nokey has no primary key").hasMessageContaining("declare the primary key");
            assertThatThrownBy(() -> exec(c, "ALTER TABLE k SET UNLOGGED"))
                    .hasMessageContaining("table public.k is replicated and cannot be UNLOGGED");
            assertThatThrownBy(() -> exec(c, "CREATE UNLOGGED TABLE u(id int PRIMARY KEY)"))
                    .hasMessageContaining("table public.u is replicated and cannot be UNLOGGED");
            assertThatThrownBy(() -> exec(c, "ALTER TABLE k DROP CONSTRAINT k_pkey"))
                    .hasMessageContaining("table public.k has no primary key");
            assertThatThrownBy(() -> exec(c, "CREATE TABLE copy AS SELECT * FROM k"))
                    .hasMessageContaining("CREATE TABLE AS is not replicated").hasMessageContaining("INSERT ... SELECT");
            assertThatThrownBy(() -> exec(c, "DO $$ BEGIN EXECUTE 'CREATE TABLE inner_t(id int PRIMARY KEY)'; END $$"))
                    .hasMessageContaining("CREATE TABLE inside a function, procedure or DO block")
                    .hasMessageContaining("chorus.execute");
            assertThat(ddl(decoded(c))).hasSize(1);
            exec(c, "CREATE TEMP TABLE scratch(x int)");
            exec(c, "DROP TABLE scratch");
            assertThat(ddl(decoded(c))).isEmpty();
        }
    }

    @Test
    void ddlIsRefusedWhileAFullTransferReplacesTheTables() throws SQLException {
        try (Connection c = replicated()) {
            exec(c, "CREATE TABLE moving(id int PRIMARY KEY)");
            exec(c, "INSERT INTO chorus.meta VALUES ('transfer_incomplete', 'from node2 at GSN 42')");
            assertThatThrownBy(() -> exec(c, "ALTER TABLE moving ADD COLUMN v text")).isInstanceOfSatisfying(
                    SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("55000");
                        assertThat(e.getMessage()).contains("chorus: ALTER TABLE is refused on this node",
                                "its tables are being replaced by a full state transfer (from node2 at GSN 42)",
                                "run it on a node that is ONLINE", "chorus.wait_ready()", "chorus.status()");
                    });
            assertThat(query(c, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'moving'::regclass AND attname = 'v'"))
                    .isEqualTo("0");
            exec(c, "DELETE FROM chorus.meta WHERE key = 'transfer_incomplete'");
            exec(c, "ALTER TABLE moving ADD COLUMN v text");
        }
    }

    @Test
    void addColumnWhoseFillDiffersPerNodeIsRefusedWithTheFixAndTheFixWorks() throws SQLException {
        try (Connection c = replicated()) {
            exec(c, "CREATE TABLE f(id int PRIMARY KEY)");
            exec(c, "INSERT INTO f SELECT generate_series(1, 3)");
            for (String[] refused : new String[][]{
                    {"ALTER TABLE f ADD COLUMN r float8 DEFAULT random()", "ADD COLUMN r with default random() (not immutable)"},
                    {"ALTER TABLE f ADD t timestamptz DEFAULT now()", "ADD COLUMN t with default now()"},
                    {"ALTER TABLE f ADD COLUMN IF NOT EXISTS t timestamptz NOT NULL DEFAULT clock_timestamp()", "clock_timestamp()"},
                    {"ALTER TABLE f ADD COLUMN \"Ts\" timestamptz DEFAULT CURRENT_TIMESTAMP", "ADD COLUMN \"Ts\" with default CURRENT_TIMESTAMP"},
                    {"ALTER TABLE f ADD COLUMN n serial", "with default nextval('f_n_seq'::regclass)"},
                    {"ALTER TABLE f ADD COLUMN g int GENERATED ALWAYS AS IDENTITY", "ADD COLUMN g as an identity column"}}) {
                assertThatThrownBy(() -> exec(c, refused[0])).as(refused[0]).isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("0A000");
                    assertThat(e.getMessage()).contains("chorus: ALTER TABLE public.f", refused[1],
                            "would give the existing rows different values on each node",
                            "fill it with an UPDATE (replicated as rows), then ALTER TABLE public.f ALTER COLUMN");
                });
            }
            assertThat(query(c, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'f'::regclass AND attnum > 1 "
                    + "AND NOT attisdropped")).as("no refused column was added").isEqualTo("0");
            exec(c, "ALTER TABLE f ADD COLUMN k int DEFAULT 42, ADD COLUMN s text DEFAULT 'now()', ADD COLUMN u text "
                    + "DEFAULT upper('x')");
            exec(c, "ALTER TABLE f ADD COLUMN t timestamptz");
            exec(c, "UPDATE f SET t = '2024-01-01 00:00:00+00'");
            exec(c, "ALTER TABLE f ALTER COLUMN t SET DEFAULT now()");
            exec(c, "INSERT INTO f (id) VALUES (4)");
            assertThat(query(c, "SELECT count(*) FROM f WHERE k = 42 AND s = 'now()' AND u = 'X' AND t IS NOT NULL"))
                    .isEqualTo("4");
        }
    }

    @Test
    void helpersAndNodeLocalSessionsEmitNothingButStillApplyThePolicies() throws SQLException {
        try (Connection c = replicated()) {
            exec(c, "SET session_replication_role = replica");
            exec(c, "CREATE TABLE h(id int PRIMARY KEY)");
            exec(c, "RESET session_replication_role");
            exec(c, "SET chorus.replicate_ddl = off");
            exec(c, "CREATE SEQUENCE local_seq");
            exec(c, "RESET chorus.replicate_ddl");
            assertThat(ddl(decoded(c))).isEmpty();
            assertThat(query(c, "SELECT relreplident FROM pg_class WHERE oid = 'h'::regclass")).isEqualTo("f");
            assertThat(query(c, "SELECT increment_by FROM pg_sequences WHERE sequencename = 'local_seq'")).isEqualTo("32");
        }
    }

    @Test
    void renameAndDropNameEveryRelationTheyTouch() throws SQLException {
        try (Connection c = replicated()) {
            exec(c, "CREATE TABLE old_name(id int PRIMARY KEY)");
            exec(c, "ALTER TABLE old_name RENAME TO new_name");
            exec(c, "DROP TABLE new_name");
            List<String> msgs = ddl(decoded(c));
            assertThat(msgs).hasSize(3);
            assertThat(msgs.get(1)).contains("[\"public\", \"new_name\"]").contains("[\"public\", \"old_name\"]")
                    .contains("\"keyed\": true");
            assertThat(msgs.get(0)).contains("\"keyed\": true");
            assertThat(msgs.get(2)).contains("\"sql\": \"DROP TABLE new_name\"").contains("[\"public\", \"new_name\"]");
            assertThat(msgs.get(1)).as("the rename says which name is the old one")
                    .contains("\"renamed\": [[\"public\", \"old_name\"], [\"public\", \"new_name\"]]")
                    .doesNotContain("\"dropped\"");
            assertThat(msgs.get(2)).contains("\"dropped\": [[\"public\", \"new_name\"]]").doesNotContain("\"renamed\"");
            assertThat(msgs.get(0)).doesNotContain("\"renamed\"").doesNotContain("\"dropped\"");
        }
    }

    @Test
    void columnRenamesSayTheOldAndTheNewNameOfEachColumn() throws SQLException {
        try (Connection c = replicated()) {
            exec(c, "CREATE TABLE \"Col Renames\"(id int PRIMARY KEY, v text, \"W w\" int)");
            exec(c, "ALTER TABLE ONLY \"Col Renames\" RENAME COLUMN v TO \"V 2\"");
            exec(c, "ALTER TABLE \"Col Renames\" RENAME \"W w\" TO w");
            exec(c, "ALTER TABLE \"Col Renames\" RENAME TO col_renamed");
            exec(c, "ALTER TABLE col_renamed ADD COLUMN z int");
            List<String> msgs = ddl(decoded(c));
            assertThat(msgs).hasSize(5);
            assertThat(msgs.get(1)).contains("\"columns_renamed\": [[\"public\", \"Col Renames\", \"v\", \"V 2\"]]");
            assertThat(msgs.get(2)).as("RENAME without COLUMN")
                    .contains("\"columns_renamed\": [[\"public\", \"Col Renames\", \"W w\", \"w\"]]");
            assertThat(msgs.get(3)).as("a table rename renames no column").doesNotContain("columns_renamed")
                    .contains("\"renamed\"");
            assertThat(msgs.get(4)).as("the names remembered at a rename's start are not reused")
                    .doesNotContain("columns_renamed");
            assertThat(msgs.get(0)).doesNotContain("columns_renamed");
        }
    }

    @Test
    void nothingIsCapturedOrRefusedInADatabaseThatIsNotReplicated() throws SQLException {
        try (Connection c = replicated()) {
            exec(c, "UPDATE chorus.meta SET value = 'false' WHERE key = 'enabled'");
            exec(c, "CREATE TABLE free(x int)");
            assertThat(ddl(decoded(c))).isEmpty();
            assertThatThrownBy(() -> query(c, "SELECT chorus.execute('CREATE TABLE x(id int PRIMARY KEY)')"))
                    .hasMessageContaining("is not replicated, so the script would run on this node only")
                    .hasMessageContaining("chorus.enable");
        }
    }

    @Test
    void executeRunsAScriptStatementByStatementThroughTheSamePath() throws SQLException {
        try (Connection c = replicated()) {
            String answer = query(c, "SELECT chorus.execute($s$CREATE TABLE e(id int PRIMARY KEY, v text);\n"
                    + "INSERT INTO e VALUES (1, 'one;two');\n-- a comment; with a semicolon\n"
                    + "CREATE INDEX e_v ON e(v);$s$)");
            assertThat(answer).startsWith("3 statement(s) run here (2 DDL)");
            List<String> out = decoded(c);
            List<String> msgs = ddl(out);
            assertThat(msgs).hasSize(2);
            assertThat(msgs.get(0)).contains("\"sql\": \"CREATE TABLE e(id int PRIMARY KEY, v text)\"");
            assertThat(msgs.get(1)).contains("\"sql\": \"CREATE INDEX e_v ON e(v)\"").contains("[\"public\", \"e\"]");
            assertThat(out).anyMatch(l -> l.contains("table public.e: INSERT: id[integer]:1 v[text]:'one;two'"));
            assertThat(query(c, "SELECT count(*) FROM e")).isEqualTo("1");
        }
    }

    @Test
    void executeRefusesWhatItCannotReplicateAndKeepsTheFailingStatementsSqlState() throws SQLException {
        try (Connection c = replicated()) {
            assertThatThrownBy(() -> query(c, "SELECT chorus.execute('  -- nothing\n ; ')"))
                    .hasMessageContaining("chorus.execute: the script is empty");
            assertThatThrownBy(() -> query(c, "SELECT chorus.execute('CREATE TABLE z(id int PRIMARY KEY); COMMIT')"))
                    .hasMessageContaining("statement 2 of 2 (COMMIT) controls the transaction");
            assertThatThrownBy(() -> query(c, "SELECT chorus.execute('CREATE INDEX CONCURRENTLY zi ON pg_class(relname)')"))
                    .hasMessageContaining("uses CONCURRENTLY").hasMessageContaining("top-level statement");
            assertThatThrownBy(() -> query(c, "SELECT chorus.execute('CREATE TABLE y(id int PRIMARY KEY); ALTER TABLE missing ADD x int')"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42P01"))
                    .hasMessageContaining("statement 2 of 2 failed: relation \"missing\" does not exist");
            assertThatThrownBy(() -> query(c, "SELECT chorus.execute('SELECT 1; CREATE TABLE nk(x int)')"))
                    .hasMessageContaining("table public.nk has no primary key");
            exec(c, "SET chorus.replicate_ddl = off");
            assertThatThrownBy(() -> query(c, "SELECT chorus.execute('CREATE TABLE y(id int PRIMARY KEY)')"))
                    .hasMessageContaining("chorus.replicate_ddl is off");
            exec(c, "RESET chorus.replicate_ddl");
            assertThat(ddl(decoded(c))).isEmpty();
        }
    }

    @Test
    void splitterHonoursQuotesDollarQuotesAndComments() throws SQLException {
        try (Connection c = replicated()) {
            assertThat(query(c, "SELECT array_to_string(chorus._split_sql($q$a ';' \"x;y\"; b $f$ ; $f$ -- c;\n; "
                    + "/* d; /* e; */ */ c E'\\';' ; $$;$$$q$), '|')"))
                    .isEqualTo("a ';' \"x;y\"|b $f$ ; $f$|c E'\\';'|$$;$$");
        }
    }

    private static List<String> ddl(List<String> decoded) {
        return decoded.stream().filter(l -> l.contains("prefix: chorus_ddl")).toList();
    }

    private static int indexOf(List<String> lines, String part) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(part)) {
                return i;
            }
        }
        throw new AssertionError("no decoded line contains " + part + ": " + lines);
    }

    private static List<String> decoded(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT data FROM pg_logical_slot_get_changes('t_' || current_database(), NULL, NULL)")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static String user(Connection c) throws SQLException {
        return query(c, "SELECT current_user");
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static String query(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
