package io.chorus.schema;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.RelationName;
import io.chorus.testkit.PgServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;

import static io.chorus.schema.SchemaTestSupport.exec;
import static io.chorus.schema.SchemaTestSupport.freshDatabase;
import static io.chorus.schema.SchemaTestSupport.replicaIdentity;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReplicaIdentityPolicyIT {
    private static final String SCHEMA = """
            CREATE TABLE plain (id int PRIMARY KEY, v text);
            CREATE TABLE uniq (id int PRIMARY KEY, u text UNIQUE);
            CREATE TABLE parent (id int PRIMARY KEY);
            CREATE TABLE child (id int PRIMARY KEY, p int REFERENCES parent);
            CREATE TABLE by_index (k int NOT NULL, v text);
            CREATE UNIQUE INDEX by_index_k ON by_index (k);
            ALTER TABLE by_index REPLICA IDENTITY USING INDEX by_index_k;
            CREATE SCHEMA chorus;
            CREATE TABLE chorus.bookkeeping (v text);
            """;
    private static PgServer pg;

    @BeforeAll
    static void start() {
        pg = PgServer.start("policy");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void fullIdentityOnlyWhereUniqueIndexesOrForeignKeysNeedIt() throws SQLException {
        try (Connection c = freshDatabase(pg, "policy", SCHEMA)) {
            assertThat(ReplicaIdentityPolicy.prepare(c)).extracting(RelationName::table)
                    .containsExactly("child", "parent", "plain", "uniq");
            assertThat(replicaIdentity(c, "plain")).as("old rows for the origin's rollback (R3)").isEqualTo("f");
            assertThat(replicaIdentity(c, "uniq")).isEqualTo("f");
            assertThat(replicaIdentity(c, "parent")).as("referenced by a foreign key").isEqualTo("f");
            assertThat(replicaIdentity(c, "child")).isEqualTo("f");
            assertThat(replicaIdentity(c, "by_index")).isEqualTo("i");
            assertThat(ReplicaIdentityPolicy.prepare(c)).as("a second run changes nothing").isEmpty();
            TableInfo byIndex = new Catalog(c).table(RelationName.of("public", "by_index"));
            assertThat(byIndex.identityColumns()).containsExactly("k");
            assertThat(byIndex.uniqueIndexes()).isEmpty();
        }
    }

    @Test
    void tablesWithoutAKeyAreRefusedTogetherAndNothingChanges() throws SQLException {
        try (Connection c = freshDatabase(pg, "policy", SCHEMA,
                "CREATE TABLE nokey (v text)", "CREATE TABLE full_nokey (v text UNIQUE)",
                "ALTER TABLE full_nokey REPLICA IDENTITY FULL",
                "CREATE TABLE nothing (id int PRIMARY KEY)", "ALTER TABLE nothing REPLICA IDENTITY NOTHING",
                "CREATE TABLE idx_fk (k int NOT NULL REFERENCES parent)",
                "CREATE UNIQUE INDEX idx_fk_k ON idx_fk (k)", "ALTER TABLE idx_fk REPLICA IDENTITY USING INDEX idx_fk_k")) {
            assertThatThrownBy(() -> ReplicaIdentityPolicy.prepare(c)).isInstanceOf(ChorusException.class)
                    .hasMessageStartingWith("4 table(s) cannot be replicated because they have no usable key")
                    .hasMessageContaining("REPLICA IDENTITY FULL is not a key")
                    .hasMessageContaining("public.nokey: no primary key; fix: ALTER TABLE \"public\".\"nokey\" ADD PRIMARY KEY (...)")
                    .hasMessageContaining("public.full_nokey: no primary key (REPLICA IDENTITY FULL); fix: ALTER TABLE \"public\".\"full_nokey\" ADD PRIMARY KEY")
                    .hasMessageContaining("public.nothing: REPLICA IDENTITY NOTHING; fix: ALTER TABLE \"public\".\"nothing\" REPLICA IDENTITY DEFAULT")
                    .hasMessageContaining("public.idx_fk: its key is a replica identity index")
                    .hasMessageContaining("ADD PRIMARY KEY USING INDEX")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("bookkeeping", "public.plain", "public.uniq"));
            assertThat(replicaIdentity(c, "uniq")).as("nothing changed").isEqualTo("d");
        }
    }

    @Test
    void fingerprintIsEqualForEqualSchemasAndTheDifferenceIsNamed() throws SQLException {
        try (Connection a = freshDatabase(pg, "fpa", SCHEMA); Connection b = freshDatabase(pg, "fpb", SCHEMA)) {
            ReplicaIdentityPolicy.prepare(a);
            assertThat(ReplicaIdentityPolicy.fingerprint(a)).as("replica identity is not part of the fingerprint")
                    .isEqualTo(SchemaFingerprint.fingerprint(b)).hasSize(64);
            exec(b, "ALTER TABLE plain ADD COLUMN extra bigint NOT NULL DEFAULT 0",
                    "CREATE UNIQUE INDEX plain_v_key ON plain (v)");
            assertThat(SchemaFingerprint.fingerprint(b)).isNotEqualTo(SchemaFingerprint.fingerprint(a));
            assertThat(SchemaFingerprint.describeDifference(SchemaFingerprint.describe(a), SchemaFingerprint.describe(b)))
                    .containsExactlyInAnyOrder(
                            "missing here: column \"public\".\"plain\" #3 \"extra\" bigint NOT NULL",
                            "missing here: unique \"public\".\"plain\" plain_v_key [v]");
            assertThat(SchemaFingerprint.describe(a)).contains(
                    "column \"public\".\"uniq\" #2 \"u\" text",
                    "key \"public\".\"child\" [id]",
                    "foreign key \"public\".\"child\" child_p_fkey [p] -> \"public\".\"parent\" pkey [id]")
                    .noneMatch(l -> l.contains("bookkeeping"));
        }
    }

    @Test
    void aJoinerWhoseSchemaDiffersIsRefusedNamingEachDifferenceAndTheFix() throws SQLException {
        try (Connection group = freshDatabase(pg, "fpg", SCHEMA); Connection joiner = freshDatabase(pg, "fpj", SCHEMA)) {
            SchemaFingerprint.requireSame(joiner, group, "donor node1 at GSN 42"); // equal: accepted
            exec(joiner, "ALTER TABLE plain ALTER COLUMN v TYPE varchar(20)", "ALTER TABLE child DROP CONSTRAINT child_p_fkey",
                    "CREATE TABLE local_only (id int PRIMARY KEY)");
            assertThatThrownBy(() -> SchemaFingerprint.requireSame(joiner, group, "donor node1 at GSN 42"))
                    .isInstanceOf(ChorusException.class)
                    .hasMessageContaining("the schema of this database differs from donor node1 at GSN 42 in 6 place(s)")
                    .hasMessageContaining("missing here: column \"public\".\"plain\" #2 \"v\" text")
                    .hasMessageContaining("only here: column \"public\".\"plain\" #2 \"v\" character varying(20)")
                    .hasMessageContaining("missing here: foreign key \"public\".\"child\" child_p_fkey [p] -> \"public\".\"parent\"")
                    .hasMessageContaining("only here: table \"public\".\"local_only\"")
                    .hasMessageContaining("Fix: make this database's tables match");
        }
    }

    @Test
    void theRecordedFingerprintIsTheDescriptionsSha256() throws Exception {
        try (Connection c = freshDatabase(pg, "fpr", SCHEMA.replace("CREATE SCHEMA chorus;",
                "CREATE SCHEMA chorus; CREATE TABLE chorus.meta (key text PRIMARY KEY, value text);"))) {
            String sha = SchemaFingerprint.record(c);
            assertThat(sha).isEqualTo(SchemaFingerprint.fingerprint(c));
            try (var st = c.createStatement(); var rs = st.executeQuery("SELECT value::jsonb->>'sha256', "
                    + "jsonb_array_length(value::jsonb->'lines') FROM chorus.meta WHERE key = 'schema_fingerprint'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo(sha);
                assertThat(rs.getInt(2)).isEqualTo(SchemaFingerprint.describe(c).size());
            }
        }
    }
}
