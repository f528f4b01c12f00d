package io.chorus.coordinator.certify;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Tuple;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Differential check against the Python reference model: with {@code -Dchorus.sim.export=FILE} writes model-compatible
 * histories (JSON lines: nodes, mode, initial rows, events, and this implementation's final state and losses) for
 * the reference model to replay with its own certifier ({@code sim_cert.py}, variant fix) and compare:
 * {@code python3 src/test/resources/io/chorus/coordinator/certify/model_diff.py FILE ../shared/model}. Skipped
 * without the property.
 */
class ModelExportTest {
    @Test
    void exportHistoriesForTheReferenceModel() throws IOException {
        String file = System.getProperty("chorus.sim.export");
        Assumptions.assumeTrue(file != null, "set -Dchorus.sim.export=FILE to export histories");
        int histories = Integer.getInteger("chorus.sim.histories", 2_000);
        long seed = Long.getLong("chorus.sim.seed", 1L);
        List<String> lines = new ArrayList<>();
        for (long s = seed; s < seed + histories; s++) {
            SimHistory h = SimHistory.generate(s, null, false);
            SimCluster w = h.run(false);
            assertThat(w.failures).as("history %d", s).isEmpty();
            lines.add("{\"seed\":" + s + ",\"n\":" + h.nodes + ",\"mode\":\"" + h.mode.name().toLowerCase()
                    + "\",\"init\":" + rows(h.init) + ",\"events\":" + events(h.events) + ",\"final\":"
                    + rows(w.nodes.get(0).db) + ",\"lost\":" + lost(w) + "}");
        }
        Files.write(Path.of(file), lines, StandardCharsets.UTF_8);
        System.out.println("exported " + histories + " histories to " + file);
    }

    private static String rows(SimDb db) {
        StringJoiner j = new StringJoiner(",", "[", "]");
        db.tables.forEach((t, rows) -> rows.forEach((pk, tup) -> j.add("[\"" + t + "\"," + pk + ",[" + num(tup, 1)
                + "," + num(tup, 2) + "]]")));
        return j.toString();
    }

    private static String num(Tuple t, int i) {
        return t.isNull(i) ? "null" : t.text(i);
    }

    private static String events(List<SimHistory.Event> events) {
        StringJoiner j = new StringJoiner(",", "[", "]");
        for (SimHistory.Event e : events) {
            if (e.type() != 'L') {
                j.add("[\"" + e.type() + "\"," + e.node() + "]");
                continue;
            }
            StringJoiner specs = new StringJoiner(",", "[", "]");
            for (SimDb.Stmt st : e.stmts()) {
                specs.add(spec(st));
            }
            j.add("[\"L\"," + e.node() + "," + specs + "]");
        }
        return j.toString();
    }

    private static String spec(SimDb.Stmt st) {
        String head = "[\"" + st.kind() + "\",\"" + st.table() + "\"," + st.pk();
        return switch (st.kind()) {
            case "ins" -> head + ",[" + st.values().get(0) + "," + st.values().get(1) + "]]";
            case "upd" -> {
                StringJoiner sets = new StringJoiner(",", "[", "]");
                for (int i = 0; i < 2; i++) {
                    if (!SimDb.KEEP.equals(st.values().get(i))) {
                        sets.add("[" + i + "," + st.values().get(i) + "]");
                    }
                }
                yield head + "," + sets + "]";
            }
            default -> head + "]";
        };
    }

    /** Per GSN, the lost change indexes with their causes: {"gsn": [[index, cause], ...]}. */
    private static String lost(SimCluster w) {
        Map<Long, StringJoiner> out = new TreeMap<>();
        w.nodes.get(0).verdicts.forEach((g, v) -> {
            StringJoiner l = new StringJoiner(",", "[", "]");
            v.conflicts().forEach(c -> l.add("[" + c.changeIndex() + "," + c.cause() + "]"));
            out.put(g, l);
        });
        StringJoiner j = new StringJoiner(",", "{", "}");
        out.forEach((g, l) -> j.add("\"" + g + "\":" + l));
        return j.toString();
    }
}
