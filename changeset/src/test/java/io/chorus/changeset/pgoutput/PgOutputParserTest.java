package io.chorus.changeset.pgoutput;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.Lsn;
import io.chorus.changeset.Tuple;
import io.chorus.changeset.pgoutput.PgOutputMessage.Insert;
import io.chorus.changeset.pgoutput.PgOutputMessage.StreamCommit;
import io.chorus.changeset.pgoutput.PgOutputMessage.StreamStart;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Hand-made messages: the error names the message type and offset; protocol 2 streaming and xids. */
class PgOutputParserTest {
    private static ByteBuffer hex(String h) {
        return ByteBuffer.wrap(HexFormat.of().parseHex(h.replace(" ", "")));
    }

    @Test
    void insertWithNullUnchangedAndText() {
        // 'I', oid 16384, 'N', 3 columns: n, u, t(2) "hi"
        Insert i = (Insert) new PgOutputParser(1).parse(hex("49 00004000 4e 0003 6e 75 74 00000002 6869"));
        assertThat(i.relationOid()).isEqualTo(16384);
        assertThat(i.newTuple().state(0)).isEqualTo(Tuple.State.NULL);
        assertThat(i.newTuple().state(1)).isEqualTo(Tuple.State.UNCHANGED);
        assertThat(i.newTuple().text(2)).isEqualTo("hi");
    }

    @Test
    void malformedBytesNameTypeAndOffset() {
        PgOutputParser p = new PgOutputParser(1);
        assertThatThrownBy(() -> p.parse(hex("49 00004000 4e 0001 74 00000005 6869")))
                .isInstanceOf(PgOutputFormatException.class)
                .hasMessage("malformed pgoutput message 'I' (Insert) at byte 9: column 0 value length 5 is negative or exceeds the 2 bytes left");
        assertThatThrownBy(() -> p.parse(hex("49 00004000 4e 0001 62 00000001 00")))
                .hasMessageContaining("at byte 8: column 0 is in binary format");
        assertThatThrownBy(() -> p.parse(hex("49 00004000 4e 0001 6e 00")))
                .hasMessageContaining("at byte 9: 1 trailing bytes");
        assertThatThrownBy(() -> p.parse(hex("44 00004000 4e 0000")))
                .hasMessageContaining("'D' (Delete) at byte 5: old tuple marker 'N' is not K or O");
        assertThatThrownBy(() -> p.parse(hex("49 00004000 4e 0001 74 00000001 ff")))
                .hasMessageContaining("not valid UTF-8");
        assertThatThrownBy(() -> p.parse(hex("53 00000001 01"))).hasMessageContaining("streaming message in protocol version 1");
        assertThatThrownBy(() -> p.parse(hex(""))).hasMessageContaining("empty message");
        assertThatThrownBy(() -> p.parse(hex("42 0000000000000001")))
                .hasMessageContaining("'B' (Begin) at byte 9: truncated: commit timestamp needs 8 bytes, 0 left");
    }

    @Test
    void protocolTwoStreamedBlockCarriesXids() {
        PgOutputParser p = new PgOutputParser(2);
        assertThat(p.parse(hex("53 000003e8 01"))).isEqualTo(new StreamStart(1000, true));
        Insert i = (Insert) p.parse(hex("49 000003e8 00004000 4e 0001 6e"));
        assertThat(i.xid()).isEqualTo(1000);
        p.parse(hex("45"));
        Insert outside = (Insert) p.parse(hex("49 00004000 4e 0001 6e"));
        assertThat(outside.xid()).isEqualTo(PgOutputMessage.NO_XID);
        StreamCommit c = (StreamCommit) p.parse(hex("63 000003e8 00 0000000000000010 0000000000000020 0000000000000000"));
        assertThat(c.commitLsn()).isEqualTo(Lsn.of(16));
        assertThat(c.commitTime()).isEqualTo(Instant.parse("2000-01-01T00:00:00Z"));
    }
}
