package io.chorus.coordinator.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.Relation;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The applier's queue is bounded in estimated bytes as well as in units: large TOAST changesets cannot fill the heap. */
class UnitQueueTest {
    private static final Relation DOCS = Units.relation("docs", "id", "body");

    private static ApplyUnit doc(long gsn, int bodyChars) {
        return Units.remote(gsn, "n2", Units.insert(DOCS, Long.toString(gsn), "x".repeat(bodyChars)));
    }

    @Test
    void largeUnitsFillTheByteBudgetLongBeforeTheUnitCount() throws InterruptedException {
        ApplyUnit big = doc(1, 400_000);
        assertThat(big.estimatedBytes()).as("a 400,000-character body counts").isGreaterThan(400_000);
        UnitQueue q = new UnitQueue(10_000, 1_000_000);
        assertThat(q.offer(big, 0, TimeUnit.MILLISECONDS)).isTrue();
        assertThat(q.offer(doc(2, 400_000), 0, TimeUnit.MILLISECONDS)).isTrue();
        assertThat(q.offer(doc(3, 400_000), 50, TimeUnit.MILLISECONDS))
                .as("a third 400 KB unit exceeds the 1 MB budget: the producer waits (flow control)").isFalse();
        assertThat(q.size()).isEqualTo(2);
        assertThat(q.poll().gsn().value()).isEqualTo(1);
        assertThat(q.offer(doc(3, 400_000), 0, TimeUnit.MILLISECONDS)).as("room again after one left").isTrue();
        assertThat(q.bytes()).isBetween(800_000L, 1_000_000L);
    }

    @Test
    void aUnitLargerThanTheWholeBudgetStillEntersAnEmptyQueue() throws InterruptedException {
        UnitQueue q = new UnitQueue(10, 1_000);
        assertThat(q.offer(doc(1, 50_000), 0, TimeUnit.MILLISECONDS)).isTrue();
        assertThat(q.offer(doc(2, 10), 0, TimeUnit.MILLISECONDS)).as("nothing fits beside it").isFalse();
        assertThat(q.poll(1, TimeUnit.SECONDS).gsn().value()).isEqualTo(1);
        assertThat(q.poll()).isNull();
        assertThat(q.bytes()).isZero();
    }

    @Test
    void theUnitCountStillBoundsSmallUnits() throws InterruptedException {
        UnitQueue q = new UnitQueue(2, Long.MAX_VALUE);
        assertThat(q.offer(doc(1, 1), 0, TimeUnit.MILLISECONDS)).isTrue();
        assertThat(q.offer(doc(2, 1), 0, TimeUnit.MILLISECONDS)).isTrue();
        assertThat(q.offer(doc(3, 1), 20, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(q.poll(0, TimeUnit.MILLISECONDS).gsn().value()).isEqualTo(1);
    }

    @Test
    void theConfigurationRefusesAnEmptyByteBudget() {
        assertThatThrownBy(() -> ApplierConfig.builder("jdbc:postgresql://localhost/app").queueBytes(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("queueBytes = 0");
    }
}
