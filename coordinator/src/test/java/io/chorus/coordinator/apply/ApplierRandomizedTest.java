package io.chorus.coordinator.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Change;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Relation;
import io.chorus.changeset.Tuple;
import io.chorus.testkit.PgServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Random histories of inserts, updates (some leaving a column unchanged) and deletes over a small key space (so units often share rows and must wait
 * for each other), applied with random pool and batch sizes; the database must end equal to a sequential model.
 * Prints its seed; replay with {@code -Dchorus.seed=<seed>}.
 */
class ApplierRandomizedTest {
    private static final int KEYS = 60;
    private static PgServer pg;

    @BeforeAll
    static void start() {
        pg = PgServer.start("applyrandom");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void randomHistoriesEndEqualToTheSequentialModel() throws Exception {
        long seed = Long.getLong("chorus.seed", System.nanoTime());
        System.out.println("ApplierRandomizedTest seed = " + seed + " (replay: -Dchorus.seed=" + seed + ")");
        Random rnd = new Random(seed);
        for (int round = 0; round < 3; round++) {
            TestDb db = TestDb.create(pg, "rnd" + round);
            db.exec("CREATE TABLE a (id int PRIMARY KEY, v text, n int)", "CREATE TABLE b (id int PRIMARY KEY, v text, n int)");
            Map<String, Map<Integer, String>> model = Map.of("a", new TreeMap<>(), "b", new TreeMap<>());
            List<ApplyUnit> units = history(rnd, 800, model);
            ApplierConfig cfg = db.config().poolSize(1 + rnd.nextInt(4)).maxBatch(1 + rnd.nextInt(120)).build();
            try (Applier applier = new Applier(cfg, ApplyListener.NONE)) {
                for (ApplyUnit u : units) {
                    applier.submit(u);
                }
                applier.awaitApplied(Gsn.of(units.size()), TestDb.WAIT);
                assertThat(applier.failure()).isNull();
            }
            for (String t : List.of("a", "b")) {
                List<String> expected = model.get(t).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                        .toList();
                assertThat(db.column("SELECT id || '=' || v || '/' || n FROM " + t + " ORDER BY id"))
                        .as("table %s after round %d with %s (seed %d)", t, round, cfg, seed)
                        .containsExactlyElementsOf(expected);
            }
        }
    }

    /** Units of 1-4 row changes each, valid against the model (which they update). */
    private static List<ApplyUnit> history(Random rnd, int count, Map<String, Map<Integer, String>> model) {
        Relation a = Units.relation("a", "id", "v", "n");
        Relation b = Units.relation("b", "id", "v", "n");
        List<ApplyUnit> units = new ArrayList<>();
        for (int g = 1; g <= count; g++) {
            List<Change> changes = new ArrayList<>();
            int rows = 1 + rnd.nextInt(4);
            for (int r = 0; r < rows; r++) {
                Relation rel = rnd.nextBoolean() ? a : b;
                changes.add(change(rnd, rel, model.get(rel.name().table()), g));
            }
            units.add(Units.remote(g, "node" + (2 + rnd.nextInt(2)), changes.toArray(Change[]::new)));
        }
        return units;
    }

    private static Change change(Random rnd, Relation rel, Map<Integer, String> rows, int g) {
        int id = rnd.nextInt(KEYS);
        String v = "g" + g + (rnd.nextInt(5) == 0 ? " 'quoted' \\ ü" : "");
        String n = "" + rnd.nextInt(1000);
        if (!rows.containsKey(id)) {
            rows.put(id, v + "/" + n);
            return Units.insert(rel, "" + id, v, n);
        }
        if (rnd.nextInt(3) == 0) {
            rows.remove(id);
            return Units.delete(rel, "" + id);
        }
        if (rnd.nextInt(4) == 0) {
            // n unchanged (as unchanged TOAST is decoded): only id and v are written, n keeps its value
            String keptN = rows.get(id).substring(rows.get(id).lastIndexOf('/') + 1);
            rows.put(id, v + "/" + keptN);
            return Units.update(rel, Tuple.builder(3).setText(0, "" + id).setText(1, v).setUnchanged(2).build());
        }
        rows.put(id, v + "/" + n);
        return Units.update(rel, "" + id, v, n);
    }
}
