package io.chorus.coordinator.certify;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.RelationName;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The index's own bookkeeping: an item goes from one entry to several and back as entries come and are purged. */
class CertIndexTest {
    private static final RelationName T = RelationName.of("public", "t");
    private static final NodeId A = NodeId.of("a");
    private static final NodeId B = NodeId.of("b");

    private static Key row(String id) {
        return new Key(KeyKind.WRITE, T, "t_pkey", List.of(id));
    }

    @Test
    void anItemFindsItsEarliestClashAboveDepsWhileItsEntriesComeAndGo() {
        CertIndex index = new CertIndex();
        index.add(1, A, row("1"), "insert");
        assertThat(index.earliestClash(List.of(row("1")), B, Gsn.NONE).winner().gsn()).isEqualTo(1);
        assertThat(index.earliestClash(List.of(row("1")), A, Gsn.NONE)).as("same origin").isNull();
        assertThat(index.earliestClash(List.of(row("1")), B, Gsn.of(1))).as("seen by deps").isNull();

        index.add(2, A, row("2"), "insert");
        index.add(3, B, row("1"), "update");
        index.add(4, A, row("1"), "update");
        assertThat(index.earliestClash(List.of(row("1")), B, Gsn.NONE).winner().gsn()).isEqualTo(1);
        assertThat(index.earliestClash(List.of(row("1")), B, Gsn.of(1)).winner().gsn()).isEqualTo(4);
        assertThat(index.earliestClash(List.of(row("1")), A, Gsn.NONE).winner().gsn()).isEqualTo(3);

        assertThat(index.purgeThrough(1)).isEqualTo(1);
        assertThat(index.earliestClash(List.of(row("1")), B, Gsn.NONE).winner().gsn()).isEqualTo(4);
        assertThat(index.purgeThrough(3)).isEqualTo(2);
        assertThat(index.earliestClash(List.of(row("1")), B, Gsn.NONE).winner().gsn()).as("one entry left").isEqualTo(4);
        assertThat(index.earliestClash(List.of(row("2")), B, Gsn.NONE)).as("purged").isNull();
        index.add(5, B, row("1"), "delete");
        assertThat(index.earliestClash(List.of(row("1")), A, Gsn.of(2)).winner().gsn()).isEqualTo(5);
        assertThat(index.purgeThrough(5)).isEqualTo(2);
        assertThat(index.size()).isZero();
        assertThat(index.earliestClash(List.of(row("1")), B, Gsn.NONE)).isNull();
    }
}
