package io.chorus.changeset.wire;

import io.chorus.changeset.Change;
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
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WireCodecTest {
    private final WireCodec codec = new WireCodec();

    private static final Relation ITEMS = new Relation(RelationName.of("public", "items"), 'd', List.of(
            new Column("id", true, 23, -1), new Column("a_rather_long_description_column", false, 25, -1)));

    static RowChange insert(int id) {
        return new RowChange(ITEMS, Op.INSERT, Tuple.ofTexts(Integer.toString(id), "d" + id), null, false,
                List.of(new Key(KeyKind.WRITE, ITEMS.name(), "pkey", List.of(Integer.toString(id)))));
    }

    static ChangeSet changeSet(List<Change> changes) {
        return new ChangeSet(new Gtid(NodeId.of("node1"), Lsn.parse("16/B374D848")), 4711,
                Instant.parse("2026-11-22T03:50:44.123456789Z"), Gsn.of(42), changes);
    }

    @Test
    void roundTripsEveryFieldExactly() {
        Tuple withStates = Tuple.builder(3).setText(0, "7").setNull(1).setUnchanged(2).build();
        Relation three = new Relation(RelationName.of("s", "t"), 'f', List.of(new Column("a", true, 23, -1),
                new Column("b", false, 1043, 14), new Column("c", false, 25, -1)));
        RowChange update = new RowChange(three, Op.UPDATE, withStates, Tuple.ofTexts("6", "", null), false,
                List.of(Key.table(three.name()), new Key(KeyKind.DELETE, three.name(), "t_b_key", List.of(""))));
        ChangeSet cs = changeSet(List.of(update, insert(1)));
        List<ChangeSet> back = codec.decode(codec.encode(List.of(cs, cs.withDeps(Gsn.NONE))));
        assertThat(back).containsExactly(cs, cs.withDeps(Gsn.NONE));
        RowChange decoded = (RowChange) back.get(0).changes().get(0);
        assertThat(decoded.newTuple().state(1)).isEqualTo(Tuple.State.NULL);
        assertThat(decoded.newTuple().state(2)).isEqualTo(Tuple.State.UNCHANGED);
        assertThat(decoded.oldTuple().text(1)).isEqualTo("");
        assertThat(back.get(0).commitTime().getNano()).isEqualTo(123456789);
        assertThat(back.get(0).gtid().commitLsn()).isEqualTo(Lsn.parse("16/B374D848"));
    }

    @Test
    void emptyBatchAndEmptyChangeSetRoundTrip() {
        assertThat(codec.decode(codec.encode(List.of()))).isEmpty();
        ChangeSet empty = changeSet(List.of());
        assertThat(codec.decode(codec.encode(List.of(empty)))).containsExactly(empty);
    }

    @Test
    void relationDefinitionIsWrittenOncePerBatch() {
        List<Change> rows = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            rows.add(insert(i));
        }
        byte[] bytes = codec.encode(List.of(changeSet(rows.subList(0, 25)), changeSet(rows.subList(25, 50))));
        assertThat(occurrences(bytes, "a_rather_long_description_column")).isEqualTo(1);
        // once in the relation's definition, once in the frame's table of names that keys refer to
        assertThat(occurrences(bytes, "items")).isEqualTo(2);
        List<ChangeSet> back = codec.decode(bytes);
        RowChange first = (RowChange) back.get(0).changes().get(0);
        RowChange last = (RowChange) back.get(1).changes().get(24);
        assertThat(last.relation()).isSameAs(first.relation());
    }

    @Test
    void framesDecodedApartShareTheirNamesOriginAndIndexNames() {
        // the certification index keeps the keys of every changeset above its horizon: equal names must not be copies
        RowChange a = (RowChange) codec.decode(codec.encode(List.of(changeSet(List.of(insert(1)))))).get(0).changes().get(0);
        ChangeSet other = codec.decode(codec.encode(List.of(changeSet(List.of(insert(2)))))).get(0);
        RowChange b = (RowChange) other.changes().get(0);
        assertThat(b.keys()).isNotEmpty();
        assertThat(b.keys().get(0).values()).isNotEqualTo(a.keys().get(0).values());
        assertThat(b.keys().get(0).relation()).isSameAs(a.keys().get(0).relation());
        assertThat(b.keys().get(0).index()).isSameAs(a.keys().get(0).index());
        assertThat(other.origin()).isSameAs(NodeId.of(other.origin().value()));
    }

    @Test
    void versionsTheCatalogHoldsAreNamedByIdAloneAndTheOthersCarried() {
        Map<Long, byte[]> committed = new HashMap<>();
        RelationCatalog catalog = committed::get;
        ChangeSet cs = changeSet(List.of(insert(1), insert(2)));

        WireCodec.Encoded first = codec.encode(List.of(cs), catalog);
        RelationVersion items = RelationVersion.of(ITEMS);
        assertThat(first.definitions()).containsOnlyKeys(items.id());
        assertThat(occurrences(first.frame(), "a_rather_long_description_column")).isEqualTo(1);
        committed.putAll(first.definitions()); // the group committed the record that carried it

        WireCodec.Encoded later = codec.encode(List.of(cs), catalog);
        assertThat(later.definitions()).isEmpty();
        assertThat(occurrences(later.frame(), "a_rather_long_description_column")).isZero();
        assertThat(later.frame().length).isLessThan(first.frame().length);
        assertThat(new WireCodec().decode(later.frame(), catalog)).containsExactly(cs);
        assertThat(new WireCodec().decode(first.frame(), RelationCatalog.NONE)).containsExactly(cs);

        assertThatThrownBy(() -> new WireCodec().decode(later.frame(), RelationCatalog.NONE))
                .isInstanceOf(WireFormatException.class)
                .hasMessageContaining("relation version " + RelationVersion.hex(items.id()))
                .hasMessageContaining("neither defined in this frame nor in the catalog");
        assertThatThrownBy(() -> new WireCodec().decode(later.frame(), id -> null))
                .hasMessageContaining("this member's copy of the log misses the record that defined it");
    }

    @Test
    void aVersionIdIsItsContentAndEveryAlterationIsAnotherVersion() {
        RelationVersion v = RelationVersion.of(ITEMS);
        assertThat(RelationVersion.of(new Relation(ITEMS.name(), 'd', ITEMS.columns())).id()).isEqualTo(v.id());
        assertThat(RelationVersion.parse(v.id(), v.definition()).relation()).isEqualTo(ITEMS);
        List<Relation> altered = List.of(
                new Relation(RelationName.of("public", "items2"), 'd', ITEMS.columns()),
                new Relation(ITEMS.name(), 'f', ITEMS.columns()),
                new Relation(ITEMS.name(), 'd', List.of(ITEMS.columns().get(0))),
                new Relation(ITEMS.name(), 'd', List.of(ITEMS.columns().get(0), new Column(
                        "a_rather_long_description_column", false, 1043, 104))),
                new Relation(ITEMS.name(), 'd', List.of(ITEMS.columns().get(0), new Column(
                        "a_rather_long_description_column", true, 25, -1))));
        assertThat(altered.stream().map(r -> RelationVersion.of(r).id()).distinct())
                .hasSize(altered.size()).doesNotContain(v.id());

        // a catalog entry whose bytes are not its id's is refused, never taken for another version
        byte[] forged = RelationVersion.of(altered.get(0)).definition();
        ChangeSet cs = changeSet(List.of(insert(1)));
        WireCodec.Encoded byId = codec.encode(List.of(cs), id -> id == v.id() ? v.definition() : null);
        assertThatThrownBy(() -> new WireCodec().decode(byId.frame(), id -> forged))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("hashes to");
    }

    @Test
    void singleChangeFrameRoundTrips() {
        RowChange rc = insert(5);
        assertThat(codec.decodeChange(codec.encodeChange(rc))).isEqualTo(rc);
        assertThatThrownBy(() -> codec.decode(codec.encodeChange(rc)))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("wrong frame kind at offset 6");
    }

    @Test
    void otherFormatVersionIsRefusedNamingBothVersions() {
        byte[] bytes = codec.encode(List.of(changeSet(List.of(insert(1)))));
        bytes[4] = 0;
        bytes[5] = 1;
        assertThatThrownBy(() -> codec.decode(bytes)).isInstanceOf(WireFormatException.class)
                .hasMessageContaining("version 1").hasMessageContaining("the sender speaks version 1")
                .hasMessageContaining("this node speaks version 2");
    }

    @Test
    void truncatedAndCorruptedFramesNameTheProblemAndOffset() {
        byte[] bytes = codec.encode(List.of(changeSet(List.of(insert(1)))));
        assertThatThrownBy(() -> codec.decode(Arrays.copyOf(bytes, bytes.length - 1)))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("frame length mismatch at offset 7");
        assertThatThrownBy(() -> codec.decode(Arrays.copyOf(bytes, 9)))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("truncated frame while reading the header");
        byte[] flipped = bytes.clone();
        flipped[bytes.length - 3] ^= 0x10;
        assertThatThrownBy(() -> codec.decode(flipped))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("checksum mismatch over the body at offset 15");
        byte[] foreign = "GET / HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> codec.decode(foreign))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("not a Chorus frame");
    }

    @Test
    void bodyErrorBehindAValidChecksumNamesWhatWasRead() {
        byte[] bytes = codec.encode(List.of(changeSet(List.of(insert(1)))));
        byte[] body = Arrays.copyOf(bytes, bytes.length - 4);
        Frame.seal(Frame.KIND_BATCH, body);
        assertThatThrownBy(() -> codec.decode(body)).isInstanceOf(WireFormatException.class)
                .hasMessageContaining("while reading").hasMessageContaining("of change #0 of changeset #0")
                .hasMessageContaining("at offset");
    }

    @Test
    void unpairedSurrogateIsRefusedAtEncode() {
        RowChange rc = new RowChange(ITEMS, Op.INSERT, Tuple.ofTexts("1", "bad\uD800"), null, false, List.of());
        assertThatThrownBy(() -> codec.encodeChange(rc)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unpaired UTF-16 surrogate");
    }

    @Test
    void concurrentCallersShareOneCodec() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4, r -> new Thread(r, "wire-test"));
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                long seed = 1000 + t;
                results.add(pool.submit(() -> {
                    RandomChanges gen = new RandomChanges(seed);
                    int checked = 0;
                    for (int i = 0; i < 300; i++) {
                        List<ChangeSet> batch = gen.batch(4, 6);
                        assertThat(codec.decode(codec.encode(batch))).isEqualTo(batch);
                        checked++;
                    }
                    return checked;
                }));
            }
            for (Future<Integer> f : results) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(300);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static int occurrences(byte[] haystack, String needle) {
        byte[] n = needle.getBytes(StandardCharsets.UTF_8);
        int count = 0;
        for (int i = 0; i + n.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + n.length, n, 0, n.length)) {
                count++;
            }
        }
        return count;
    }
}
