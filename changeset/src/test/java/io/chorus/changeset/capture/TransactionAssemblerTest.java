package io.chorus.changeset.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Column;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.Tuple;
import io.chorus.changeset.pgoutput.PgOutputMessage.Begin;
import io.chorus.changeset.pgoutput.PgOutputMessage.Commit;
import io.chorus.changeset.pgoutput.PgOutputMessage.Insert;
import io.chorus.changeset.pgoutput.PgOutputMessage.Origin;
import io.chorus.changeset.pgoutput.PgOutputMessage.RelationMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The assembler on hand-made pgoutput messages: what it keeps of a helper's transaction. */
class TransactionAssemblerTest {
    @TempDir
    Path work;

    private final List<ChangeSet> locals = new ArrayList<>();
    private final List<Gsn> helpers = new ArrayList<>();

    private TransactionAssembler assembler() {
        return new TransactionAssembler(NodeId.of("node1"), "chorus_", Gsn.NONE,
                () -> ChangeCollector.create(64, work), new TransactionAssembler.Output() {
                    @Override
                    public void localCommit(ChangeSet cs, Lsn endLsn, AutoCloseable spillFile) {
                        locals.add(cs);
                    }

                    @Override
                    public void helperCommit(String originName, Gsn appliedGsn, Lsn commitLsn, Lsn endLsn) {
                        helpers.add(appliedGsn);
                    }

                    @Override
                    public void emptyCommit(Lsn commitLsn, Lsn endLsn) {
                    }
                });
    }

    private static void transaction(TransactionAssembler a, long lsn, Origin origin, int rows) {
        a.accept(new Begin(Lsn.of(lsn), Instant.EPOCH, lsn));
        if (origin != null) {
            a.accept(origin);
        }
        for (int i = 0; i < rows; i++) {
            a.accept(new Insert(lsn, 16384, Tuple.ofTexts(Integer.toString(i), "a value long enough to spill " + i)));
        }
    }

    private long spillFiles() throws Exception {
        Path spill = work.resolve("spill");
        if (!Files.exists(spill)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(spill)) {
            return files.count();
        }
    }

    @Test
    void aHelpersRowsAreNeitherKeptNorSpilledAndALocalTransactionsAre() throws Exception {
        TransactionAssembler a = assembler();
        a.accept(new RelationMessage(0, 16384, "public", "t", 'd',
                List.of(new Column("id", true, 23, -1), new Column("v", false, 25, -1))));

        transaction(a, 100, new Origin(Lsn.of(7), "chorus_h1"), 500);
        assertThat(a.skipsRows()).isTrue();
        assertThat(spillFiles()).as("rows of a helper's transaction under a 64-byte spill threshold").isZero();
        a.accept(new Commit(0, Lsn.of(100), Lsn.of(101), Instant.EPOCH));
        assertThat(helpers).containsExactly(Gsn.of(7));
        assertThat(a.skipsRows()).isFalse();

        transaction(a, 200, null, 500);
        assertThat(spillFiles()).as("a local transaction above the threshold spills").isEqualTo(1);
        a.accept(new Commit(0, Lsn.of(200), Lsn.of(201), Instant.EPOCH));
        assertThat(locals).hasSize(1);
        assertThat(locals.get(0).deps()).isEqualTo(Gsn.of(7));
        assertThat(locals.get(0).changes()).hasSize(500);
        a.abandon();
    }
}
