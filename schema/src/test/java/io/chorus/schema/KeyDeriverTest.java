package io.chorus.schema;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Column;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.changeset.Tuple;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.chorus.changeset.KeyKind.DELETE;
import static io.chorus.changeset.KeyKind.REFERENCE;
import static io.chorus.changeset.KeyKind.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Rules that real pgoutput output rarely reaches: unchanged TOAST in key columns, missing values, truncate. */
class KeyDeriverTest {
    private static final RelationName T = RelationName.of("s", "t");
    private static final RelationName P = RelationName.of("s", "p");
    private static final Relation REL = new Relation(T, 'f', List.of(new Column("id", true, 23, -1),
            new Column("big", false, 25, -1), new Column("fk", false, 23, -1)));
    private static final TableInfo INFO = new TableInfo(T, 'f', List.of("id"),
            List.of(new UniqueIndex("t_big_key", List.of("big"))),
            List.of(new ForeignKey("t_fk", List.of("fk"), P, "pkey", List.of("id"))), false);

    private static Key key(KeyKind kind, RelationName rel, String index, String... values) {
        return new Key(kind, rel, index, List.of(values));
    }

    private static Tuple unchangedBig(String id, String fk) {
        return Tuple.builder(3).setText(0, id).setUnchanged(1).setText(2, fk).build();
    }

    @Test
    void unchangedToastTakesItsValueFromTheFullOldRow() {
        RowChange rc = new RowChange(REL, Op.UPDATE, unchangedBig("1", "9"), Tuple.ofTexts("1", "huge", "8"), false, List.of());
        assertThat(KeyDeriver.keys(rc, INFO)).containsExactly(key(WRITE, T, "pkey", "1"),
                key(WRITE, T, "t_big_key", "huge"), key(REFERENCE, P, "pkey", "9"), key(REFERENCE, P, "pkey", "8"));
    }

    @Test
    void keyOnlyOldRowCannotSupplyOtherColumns() {
        RowChange rc = new RowChange(REL, Op.UPDATE, unchangedBig("2", "9"), Tuple.ofTexts("1", null, null), true, List.of());
        assertThatThrownBy(() -> KeyDeriver.keys(rc, INFO)).isInstanceOf(ChorusException.class)
                .hasMessageContaining("UPDATE of s.t leaves key column big as unchanged TOAST")
                .hasMessageContaining("REPLICA IDENTITY FULL");
    }

    @Test
    void foreignKeySetToNullReferencesOnlyTheOldParent() {
        RowChange rc = new RowChange(REL, Op.UPDATE, Tuple.ofTexts("1", "b", null), Tuple.ofTexts("1", "b", "8"),
                false, List.of());
        assertThat(KeyDeriver.keys(rc, INFO)).containsExactly(key(WRITE, T, "pkey", "1"),
                key(WRITE, T, "t_big_key", "b"), key(REFERENCE, P, "pkey", "8"));
    }

    @Test
    void updateWithoutOldRowOnATableWithUniqueIndexesIsRefused() {
        RowChange rc = new RowChange(REL, Op.UPDATE, Tuple.ofTexts("1", "b", null), null, false, List.of());
        assertThatThrownBy(() -> KeyDeriver.keys(rc, INFO)).isInstanceOf(ChorusException.class)
                .hasMessageContaining("UPDATE of table s.t carries no old row, but its unique index t_big_key");
    }

    @Test
    void tableWithoutIdentityAndNullIdentityAreRefused() {
        TableInfo noKey = new TableInfo(T, 'd', List.of(), List.of(), List.of(), false);
        RowChange insert = new RowChange(REL, Op.INSERT, Tuple.ofTexts(null, "b", null), null, false, List.of());
        assertThatThrownBy(() -> KeyDeriver.keys(insert, noKey)).isInstanceOf(ChorusException.class)
                .hasMessageContaining("table s.t has no primary key or replica identity index")
                .hasMessageContaining("ADD PRIMARY KEY");
        assertThatThrownBy(() -> KeyDeriver.keys(insert, INFO)).isInstanceOf(ChorusException.class)
                .hasMessageContaining("INSERT of s.t has a NULL in its identity columns [id]");
    }

    @Test
    void columnMissingFromTheDecodedRelationIsNamed() {
        TableInfo drift = new TableInfo(T, 'd', List.of("nope"), List.of(), List.of(), false);
        RowChange insert = new RowChange(REL, Op.INSERT, Tuple.ofTexts("1", "b", null), null, false, List.of());
        assertThatThrownBy(() -> KeyDeriver.keys(insert, drift)).isInstanceOf(ChorusException.class)
                .hasMessageContaining("change to s.t has no column nope");
    }

    @Test
    void truncateCarriesATableKeyPerTable() {
        assertThat(KeyDeriver.keys(new TruncateChange(List.of(T, P), true, false)))
                .containsExactly(Key.table(T), Key.table(P));
    }

    @Test
    void deleteWithFullOldRowSkipsNullUniqueValues() {
        // the old row's parent is referenced too: a child's DELETE must not apply once its parent's writer lost
        RowChange rc = new RowChange(REL, Op.DELETE, null, Tuple.ofTexts("3", null, "8"), false, List.of());
        assertThat(KeyDeriver.keys(rc, INFO)).containsExactly(key(DELETE, T, "pkey", "3"), key(REFERENCE, P, "pkey", "8"));
    }
}
