package io.chorus.coordinator.domain;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Column;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import io.chorus.changeset.wire.WireCodec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A seeded log of large changesets from three origins, generated one at a time (so a test can replay more than its
 * heap holds): each updates one row of a REPLICA IDENTITY FULL table with a {@code size}-byte value, a fifth of them
 * one of ten hot rows, so concurrent changesets conflict. Node {@code a} (the restarting one) commits with deps 40 to
 * 60 GSNs behind the log, so several of its changesets are always in flight (the rebuild starts at the start of the
 * log); the others up to 8.
 */
final class ReplayScenario {
    static final NodeId SELF = NodeId.of("a");
    static final List<NodeId> ORIGINS = List.of(SELF, NodeId.of("b"), NodeId.of("c"));
    static final RelationName T = RelationName.of("public", "t");
    private static final Relation REL = new Relation(T, 'f', List.of(new Column("id", true, 20, -1),
            new Column("v", false, 25, -1)));

    /** One record of the log: its GSN, changeset and payload as the group delivers it. */
    record Record(Gsn gsn, ChangeSet changeSet, byte[] payload) {
    }

    private final Random rng;
    private final int size;
    private final WireCodec codec;
    private final long[] lastDeps = new long[ORIGINS.size()];
    private long gsn;
    private long lsn;

    ReplayScenario(long seed, int size, WireCodec codec) {
        this.rng = new Random(seed);
        this.size = size;
        this.codec = codec;
    }

    /** The next record of the log. */
    Record next() {
        int o = rng.nextInt(ORIGINS.size());
        ChangeSet cs = changeSet(o, gsn);
        gsn++;
        return new Record(Gsn.of(gsn), cs, LogRecord.encode(new LogRecord.Changes(cs), codec));
    }

    /** Node a's changesets committed after the last record and not in the log (its slot re-emits them). */
    List<ChangeSet> undelivered(int n) {
        List<ChangeSet> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(changeSet(0, gsn));
        }
        return out;
    }

    /** The GSN of the last record. */
    Gsn last() {
        return Gsn.of(gsn);
    }

    private ChangeSet changeSet(int origin, long head) {
        long lag = origin == 0 ? 40 + rng.nextInt(21) : rng.nextInt(9);
        long deps = Math.max(lastDeps[origin], Math.max(0, head - lag));
        lastDeps[origin] = deps;
        long row = rng.nextInt(5) == 0 ? rng.nextInt(10) : 10 + rng.nextInt(5_000);
        String id = Long.toString(row);
        char[] value = new char[size];
        java.util.Arrays.fill(value, (char) ('a' + rng.nextInt(26)));
        Tuple after = Tuple.ofTexts(id, new String(value));
        RowChange rc = new RowChange(REL, Op.UPDATE, after, Tuple.ofTexts(id, "old"), false,
                List.of(new Key(KeyKind.WRITE, T, "t_pkey", List.of(id))));
        return new ChangeSet(new Gtid(ORIGINS.get(origin), Lsn.of(++lsn)), lsn, Instant.EPOCH, Gsn.of(deps),
                List.of(rc));
    }
}
