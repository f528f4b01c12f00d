package io.chorus.schema;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.RelationName;
import io.chorus.testkit.PgServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import static io.chorus.schema.SchemaTestSupport.exec;
import static io.chorus.schema.SchemaTestSupport.freshDatabase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CatalogIT {
    private static PgServer pg;

    @BeforeAll
    static void start() {
        pg = PgServer.start("catalog");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    private static RelationName rel(String table) {
        return RelationName.of("app", table);
    }

    @Test
    void readsIdentityUniqueIndexesAndForeignKeys() throws SQLException {
        try (Connection c = freshDatabase(pg, "catalog",
                "CREATE SCHEMA app",
                "CREATE TABLE app.\"Parent\" (a int, b int, code text, CONSTRAINT odd_pk_name PRIMARY KEY (b, a),"
                        + " CONSTRAINT parent_code UNIQUE (code))",
                "CREATE TABLE app.kid (id int PRIMARY KEY, x int, y int, c text, w text, s text,"
                        + " CONSTRAINT kid_to_parent FOREIGN KEY (x, y) REFERENCES app.\"Parent\" (a, b),"
                        + " CONSTRAINT kid_to_code FOREIGN KEY (c) REFERENCES app.\"Parent\" (code))",
                "CREATE UNIQUE INDEX kid_w_incl ON app.kid (w) INCLUDE (s)",
                "CREATE UNIQUE INDEX kid_partial ON app.kid (s) WHERE s <> ''",
                "CREATE UNIQUE INDEX kid_expr ON app.kid (lower(s))")) {
            Catalog catalog = new Catalog(c);
            TableInfo parent = catalog.table(rel("Parent"));
            assertThat(parent.identityColumns()).as("primary key columns in index order").containsExactly("b", "a");
            assertThat(parent.uniqueIndexes()).containsExactly(new UniqueIndex("parent_code", List.of("code")));
            assertThat(parent.referencedByForeignKey()).isTrue();
            assertThat(parent.foreignKeys()).isEmpty();
            TableInfo kid = catalog.table(rel("kid"));
            assertThat(kid.replicaIdentity()).isEqualTo('d');
            assertThat(kid.identityColumns()).containsExactly("id");
            assertThat(kid.uniqueIndexes()).as("INCLUDE columns dropped; partial and expression indexes left out")
                    .containsExactly(new UniqueIndex("kid_w_incl", List.of("w")));
            assertThat(kid.foreignKeys()).containsExactly(
                    new ForeignKey("kid_to_code", List.of("c"), rel("Parent"), "parent_code", List.of("code")),
                    new ForeignKey("kid_to_parent", List.of("y", "x"), rel("Parent"), "pkey", List.of("b", "a")));
            assertThat(kid.referencedByForeignKey()).isFalse();
            assertThat(kid.needsFullIdentity()).isTrue();
        }
    }

    @Test
    void cachesUntilInvalidated() throws SQLException {
        try (Connection c = freshDatabase(pg, "catalog", "CREATE SCHEMA app", "CREATE TABLE app.t (id int PRIMARY KEY, u int)")) {
            Catalog catalog = new Catalog(c);
            assertThat(catalog.table(rel("t")).uniqueIndexes()).isEmpty();
            exec(c, "CREATE UNIQUE INDEX t_u ON app.t (u)");
            assertThat(catalog.table(rel("t")).uniqueIndexes()).as("cached").isEmpty();
            catalog.invalidate();
            assertThat(catalog.table(rel("t")).uniqueIndexes()).containsExactly(new UniqueIndex("t_u", List.of("u")));
            exec(c, "ALTER TABLE app.t ADD COLUMN v int UNIQUE");
            catalog.invalidate(rel("t"));
            assertThat(catalog.table(rel("t")).uniqueIndexes()).hasSize(2);
            assertThat(catalog.userTables()).extracting(TableInfo::name).containsExactly(rel("t"));
        }
    }

    @Test
    void unknownTableIsNamedWithTheLikelyCause() throws SQLException {
        try (Connection c = freshDatabase(pg, "catalog")) {
            assertThatThrownBy(() -> new Catalog(c).table(rel("gone"))).isInstanceOf(ChorusException.class)
                    .hasMessageContaining("table app.gone does not exist in database catalog")
                    .hasMessageContaining("compare the schema fingerprints");
        }
    }
}
