package io.chorus.coordinator.certify;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.RelationName;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The indexed R2 lookup must give exactly the answer of the scan it replaces, on random losses and probes over a few
 * items, every key kind and TABLE keys included, with losses dropped as deps advance.
 */
class OriginLossesTest {
    private record Loss(int id, List<Key> keys, Gsn cause) implements LostChange {
    }

    private static final List<RelationName> RELATIONS = List.of(new RelationName("public", "a"),
            new RelationName("public", "b"));

    @Test
    void indexedCauseEqualsTheScanOnRandomHistories() {
        long seed = Long.getLong("chorus.seed", System.nanoTime());
        Random rnd = new Random(seed);
        int compared = 0;
        int found = 0;
        for (int history = 0; history < 300; history++) {
            OriginLosses<Loss> indexed = new OriginLosses<>();
            List<Loss> scanned = new ArrayList<>();
            long deps = 0;
            for (int step = 0; step < 200; step++) {
                if (rnd.nextInt(10) == 0) {
                    deps += rnd.nextInt(5);
                    long d = deps;
                    indexed.dropThrough(Gsn.of(d));
                    scanned.removeIf(l -> l.cause().value() <= d);
                }
                if (rnd.nextBoolean()) {
                    Loss l = new Loss(step, keys(rnd), Gsn.of(deps + 1 + rnd.nextInt(20)));
                    indexed.add(l);
                    scanned.add(l);
                } else {
                    List<Key> probe = keys(rnd);
                    Gsn probeDeps = Gsn.of(deps + rnd.nextInt(10));
                    Dependency<Loss> expected = CertRules.sameOriginCause(probe, scanned, probeDeps);
                    Dependency<Loss> actual = probe.isEmpty() ? null : indexed.cause(probe, probeDeps);
                    assertThat(actual).as("seed %d history %d step %d probe %s deps %s", seed, history, step, probe,
                            probeDeps).isEqualTo(expected);
                    compared++;
                    found += expected == null ? 0 : 1;
                }
            }
            assertThat(indexed.isEmpty()).isEqualTo(scanned.isEmpty());
        }
        System.out.printf("OriginLossesTest seed %d: %d probes compared, %d found a dependency%n", seed, compared,
                found);
        assertThat(found).as("the histories must exercise dependencies").isGreaterThan(compared / 10);
    }

    private static List<Key> keys(Random rnd) {
        int n = rnd.nextInt(4);
        List<Key> keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            RelationName r = RELATIONS.get(rnd.nextInt(RELATIONS.size()));
            if (rnd.nextInt(12) == 0) {
                keys.add(Key.table(r));
            } else {
                KeyKind kind = KeyKind.values()[rnd.nextInt(3)];
                String index = rnd.nextInt(4) == 0 ? "u" : "pk";
                keys.add(new Key(kind, r, index, List.of(Integer.toString(rnd.nextInt(4)))));
            }
        }
        return keys;
    }
}
