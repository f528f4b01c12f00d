package io.chorus.schema;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.testkit.PgServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import static io.chorus.changeset.KeyKind.DELETE;
import static io.chorus.changeset.KeyKind.REFERENCE;
import static io.chorus.changeset.KeyKind.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Keys of row changes decoded by pgoutput from a real server, after {@link ReplicaIdentityPolicy#prepare}. */
class KeyDeriverIT {
    private static final RelationName PARENT = RelationName.of("public", "parent");
    private static final RelationName CHILD = RelationName.of("public", "child");
    private static PgServer pg;
    private static Connection c;
    private static SlotRows slot;
    private static Catalog catalog;

    @BeforeAll
    static void start() throws SQLException {
        pg = PgServer.start("keys");
        c = SchemaTestSupport.freshDatabase(pg, "keys",
                "CREATE TABLE parent (id int PRIMARY KEY, code text NOT NULL UNIQUE, a int, b int, UNIQUE (a, b))",
                "CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id),"
                        + " parent_code text REFERENCES parent (code), email text UNIQUE, note text)",
                "CREATE TABLE pair (x int, y int, v text, PRIMARY KEY (x, y))",
                "CREATE TABLE grandchild (id int PRIMARY KEY, pb int, pa int, FOREIGN KEY (pb, pa) REFERENCES parent (b, a))");
        assertThat(ReplicaIdentityPolicy.prepare(c)).extracting(RelationName::table)
                .containsExactly("child", "grandchild", "pair", "parent");
        SchemaTestSupport.exec(c, "ALTER TABLE pair REPLICA IDENTITY DEFAULT", // keeps the key-only old tuple path covered
                "CREATE TABLE late (id int PRIMARY KEY, u int UNIQUE)",
                "CREATE TABLE doc (id int PRIMARY KEY, body text, tag text UNIQUE)",
                "ALTER TABLE doc REPLICA IDENTITY FULL",
                "CREATE TABLE nnd (id int PRIMARY KEY, u int, CONSTRAINT nnd_u UNIQUE NULLS NOT DISTINCT (u))",
                "ALTER TABLE nnd REPLICA IDENTITY FULL");
        slot = new SlotRows(c, "keys_slot");
        catalog = new Catalog(c);
    }

    @AfterAll
    static void stop() throws SQLException {
        if (slot != null) {
            slot.close();
        }
        if (c != null) {
            c.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    private static List<Key> keysOf(String sql) throws SQLException {
        RowChange rc = slot.one(sql);
        return KeyDeriver.keys(rc, catalog.table(rc.relation().name()));
    }

    private static Key key(KeyKind kind, RelationName rel, String index, String... values) {
        return new Key(kind, rel, index, List.of(values));
    }

    @Test
    void insertWritesKeyAndUniquesAndReferencesParents() throws SQLException {
        assertThat(keysOf("INSERT INTO parent VALUES (1, 'p1', 5, 6)")).containsExactlyInAnyOrder(
                key(WRITE, PARENT, "pkey", "1"), key(WRITE, PARENT, "parent_a_b_key", "5", "6"),
                key(WRITE, PARENT, "parent_code_key", "p1"));
        assertThat(keysOf("INSERT INTO child VALUES (10, 1, 'p1', 'e@x', 'n')")).containsExactlyInAnyOrder(
                key(WRITE, CHILD, "pkey", "10"), key(WRITE, CHILD, "child_email_key", "e@x"),
                key(REFERENCE, PARENT, "pkey", "1"), key(REFERENCE, PARENT, "parent_code_key", "p1"));
    }

    @Test
    void nullUniqueAndForeignKeyValuesCarryNoKey() throws SQLException {
        assertThat(keysOf("INSERT INTO parent VALUES (2, 'p2', NULL, 7)")).containsExactlyInAnyOrder(
                key(WRITE, PARENT, "pkey", "2"), key(WRITE, PARENT, "parent_code_key", "p2"));
        assertThat(keysOf("INSERT INTO child VALUES (11, NULL, NULL, NULL, 'x')"))
                .containsExactly(key(WRITE, CHILD, "pkey", "11"));
    }

    @Test
    void updateOfAPlainColumnStillReferencesParentsAndReleasesNothing() throws SQLException {
        SchemaTestSupport.exec(c, "INSERT INTO parent VALUES (20, 'p20', NULL, NULL)",
                "INSERT INTO child VALUES (21, 20, 'p20', 'u@x', 'n')");
        slot.take();
        assertThat(keysOf("UPDATE child SET note = 'changed' WHERE id = 21")).containsExactlyInAnyOrder(
                key(WRITE, CHILD, "pkey", "21"), key(WRITE, CHILD, "child_email_key", "u@x"),
                key(REFERENCE, PARENT, "pkey", "20"), key(REFERENCE, PARENT, "parent_code_key", "p20"));
    }

    @Test
    void updateChangingUniqueAndForeignKeyCarriesReleaseKeys() throws SQLException {
        SchemaTestSupport.exec(c, "INSERT INTO parent VALUES (30, 'p30', NULL, NULL), (31, 'p31', NULL, NULL)",
                "INSERT INTO child VALUES (32, 30, NULL, 'old@x', 'n')");
        slot.take();
        assertThat(keysOf("UPDATE child SET email = 'new@x', parent_id = 31 WHERE id = 32")).containsExactlyInAnyOrder(
                key(WRITE, CHILD, "pkey", "32"),
                key(WRITE, CHILD, "child_email_key", "new@x"), key(DELETE, CHILD, "child_email_key", "old@x"),
                key(REFERENCE, PARENT, "pkey", "31"), key(REFERENCE, PARENT, "pkey", "30"));
        assertThat(keysOf("UPDATE child SET email = NULL WHERE id = 32")).containsExactlyInAnyOrder(
                key(WRITE, CHILD, "pkey", "32"), key(DELETE, CHILD, "child_email_key", "new@x"),
                key(REFERENCE, PARENT, "pkey", "31"));
    }

    @Test
    void updateChangingTheKeyDeletesTheOldKey() throws SQLException {
        RelationName pair = RelationName.of("public", "pair");
        SchemaTestSupport.exec(c, "INSERT INTO pair VALUES (1, 1, 'v')");
        slot.take();
        RowChange rc = slot.one("UPDATE pair SET x = 2 WHERE x = 1 AND y = 1");
        assertThat(rc.oldIsKeyOnly()).as("default replica identity sends the old key only").isTrue();
        assertThat(KeyDeriver.keys(rc, catalog.table(pair))).containsExactlyInAnyOrder(
                key(WRITE, pair, "pkey", "2", "1"), key(DELETE, pair, "pkey", "1", "1"));
        assertThat(keysOf("UPDATE pair SET v = 'w' WHERE x = 2")).containsExactly(key(WRITE, pair, "pkey", "2", "1"));
    }

    @Test
    void deleteCarriesDeleteOnKeyAndEveryUniqueValue() throws SQLException {
        SchemaTestSupport.exec(c, "INSERT INTO parent VALUES (40, 'p40', 8, 9)");
        slot.take();
        assertThat(keysOf("DELETE FROM parent WHERE id = 40")).containsExactlyInAnyOrder(
                key(DELETE, PARENT, "pkey", "40"), key(DELETE, PARENT, "parent_a_b_key", "8", "9"),
                key(DELETE, PARENT, "parent_code_key", "p40"));
    }

    @Test
    void compositeForeignKeyValuesFollowTheParentIndexOrder() throws SQLException {
        SchemaTestSupport.exec(c, "INSERT INTO parent VALUES (50, 'p50', 51, 52)");
        slot.take();
        assertThat(keysOf("INSERT INTO grandchild VALUES (1, 52, 51)")).containsExactlyInAnyOrder(
                key(WRITE, RelationName.of("public", "grandchild"), "pkey", "1"),
                key(REFERENCE, PARENT, "parent_a_b_key", "51", "52"));
    }

    @Test
    void deleteOfAChildReleasesItsReferencesToItsParents() throws SQLException {
        SchemaTestSupport.exec(c, "INSERT INTO parent VALUES (45, 'p45', NULL, NULL)",
                "INSERT INTO child VALUES (46, 45, 'p45', 'd@x', 'n'), (47, NULL, NULL, NULL, 'n')");
        slot.take();
        assertThat(keysOf("DELETE FROM child WHERE id = 46")).containsExactlyInAnyOrder(
                key(DELETE, CHILD, "pkey", "46"), key(DELETE, CHILD, "child_email_key", "d@x"),
                key(REFERENCE, PARENT, "pkey", "45"), key(REFERENCE, PARENT, "parent_code_key", "p45"));
        assertThat(keysOf("DELETE FROM child WHERE id = 47")).containsExactly(key(DELETE, CHILD, "pkey", "47"));
    }

    @Test
    void keyOnlyDeleteOfATableWithAUniqueIndexIsRefusedWithTheFix() throws SQLException {
        SchemaTestSupport.exec(c, "INSERT INTO late VALUES (1, 1)");
        slot.take();
        RowChange rc = slot.one("DELETE FROM late WHERE id = 1");
        assertThatThrownBy(() -> KeyDeriver.keys(rc, catalog.table(rc.relation().name())))
                .isInstanceOf(ChorusException.class).hasMessageContaining("DELETE of table public.late")
                .hasMessageContaining("only the old key").hasMessageContaining("unique index late_u_key")
                .hasMessageContaining("ALTER TABLE \"public\".\"late\" REPLICA IDENTITY FULL");
    }

    @Test
    void unchangedToastColumnDoesNotDisturbTheKeys() throws SQLException {
        RelationName doc = RelationName.of("public", "doc");
        SchemaTestSupport.exec(c, "ALTER TABLE doc ALTER COLUMN body SET STORAGE EXTERNAL",
                "INSERT INTO doc SELECT 1, string_agg(md5(i::text), '') , 't1' FROM generate_series(1, 400) i");
        slot.take();
        RowChange rc = slot.one("UPDATE doc SET tag = 't2' WHERE id = 1");
        assertThat(rc.newTuple().isUnchanged(rc.relation().indexOf("body"))).as("body is unchanged TOAST").isTrue();
        assertThat(KeyDeriver.keys(rc, catalog.table(doc))).containsExactlyInAnyOrder(
                key(WRITE, doc, "pkey", "1"), key(WRITE, doc, "doc_tag_key", "t2"), key(DELETE, doc, "doc_tag_key", "t1"));
    }

    @Test
    void nullsNotDistinctIndexKeysNullAsAValue() throws SQLException {
        RelationName nnd = RelationName.of("public", "nnd");
        assertThat(catalog.table(nnd).uniqueIndexes()).containsExactly(new UniqueIndex("nnd_u", List.of("u"), true));
        assertThat(keysOf("INSERT INTO nnd VALUES (1, NULL)")).containsExactly(
                key(WRITE, nnd, "pkey", "1"), key(WRITE, nnd, "nnd_u", KeyDeriver.NULL_VALUE));
        assertThat(keysOf("UPDATE nnd SET u = 5 WHERE id = 1")).containsExactly(key(WRITE, nnd, "pkey", "1"),
                key(WRITE, nnd, "nnd_u", "5"), key(DELETE, nnd, "nnd_u", KeyDeriver.NULL_VALUE));
    }
}
