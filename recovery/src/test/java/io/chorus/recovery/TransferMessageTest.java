package io.chorus.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import org.junit.jupiter.api.Test;

class TransferMessageTest {
    private static final NodeId A = NodeId.of("node1");
    private static final NodeId B = NodeId.of("node2");

    @Test
    void everyKindSurvivesTheLogEncoding() {
        TransferMessage[] all = {
            new TransferMessage.Request(B, "r1", 2, A),
            new TransferMessage.Request(B, "r2", 0, null),
            new TransferMessage.Offer(B, "r1", A, Gsn.of(1234), "00000003-0000001B-1", "db.example", 5432, "app", null),
            new TransferMessage.Done(B, "r1", A)};
        for (TransferMessage m : all) {
            byte[] bytes = TransferMessage.encode(m);
            assertThat(TransferMessage.isTransfer(bytes)).isTrue();
            assertThat(TransferMessage.decode(bytes)).isEqualTo(m);
        }
        TransferMessage.Offer failed = new TransferMessage.Offer(B, "r1", A, Gsn.NONE, null, null, 0, null, "donor node1 is not ONLINE");
        TransferMessage.Offer back = (TransferMessage.Offer) TransferMessage.decode(TransferMessage.encode(failed));
        assertThat(back.failed()).isTrue();
        assertThat(back.error()).isEqualTo("donor node1 is not ONLINE");
    }

    @Test
    void otherRecordsAreNotTransfers() {
        assertThat(TransferMessage.isTransfer(new byte[] {1, 2, 3})).isFalse();
        assertThatThrownBy(() -> TransferMessage.decode(new byte[] {TransferMessage.TAG, 9}))
                .isInstanceOf(ChorusException.class).hasMessageContaining("unknown transfer message kind 9");
    }
}
