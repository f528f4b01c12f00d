package io.chorus.coordinator.certify;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Tuple;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every interleaving of local commits, appends and GSN processing of the two-node conflict-matrix cells (as the
 * model's {@code --cells} does): each must converge, with identical decisions and a final state equal to replaying
 * the log's winners.
 */
class ConflictCellInterleavingTest {
    private static final int LEAF_LIMIT = 200_000;

    private record Cell(String name, SimDb init, Map<Integer, List<List<SimDb.Stmt>>> txns) {
    }

    private static SimDb.Stmt s(String kind, String t, String pk, String... values) {
        return new SimDb.Stmt(kind, t, pk, Arrays.asList(values));
    }

    private static SimDb init(String... rows) {
        SimDb db = new SimDb();
        for (String r : rows) {
            String[] f = r.split(":", -1);
            db.put(f[0], f[1], Tuple.ofTexts(f[1], f[2], f[3].equals("null") ? null : f[3]));
        }
        return db;
    }

    private static final List<Cell> CELLS = List.of(
            new Cell("insert/insert same key", init(), Map.of(0, List.of(List.of(s("ins", "p", "1", "a", null))),
                    1, List.of(List.of(s("ins", "p", "1", "b", null))))),
            new Cell("update/update", init("p:1:0:null"), Map.of(0, List.of(List.of(s("upd", "p", "1", "1", "="))),
                    1, List.of(List.of(s("upd", "p", "1", "2", "="))))),
            new Cell("update/delete", init("p:1:0:null"), Map.of(0, List.of(List.of(s("upd", "p", "1", "1", "="))),
                    1, List.of(List.of(s("del", "p", "1"))))),
            new Cell("delete/delete", init("p:1:0:null"), Map.of(0, List.of(List.of(s("del", "p", "1"))),
                    1, List.of(List.of(s("del", "p", "1"))))),
            new Cell("insert/insert unique", init(), Map.of(0, List.of(List.of(s("ins", "p", "1", "0", "7"))),
                    1, List.of(List.of(s("ins", "p", "2", "0", "7"))))),
            new Cell("update/update onto one unique value", init("p:1:0:1", "p:2:0:2"),
                    Map.of(0, List.of(List.of(s("upd", "p", "1", "=", "3"))),
                            1, List.of(List.of(s("upd", "p", "2", "=", "3"))))),
            new Cell("free a unique value, reuse it / take it", init("p:0:0:0"),
                    Map.of(0, List.of(List.of(s("upd", "p", "0", "=", "3")), List.of(s("ins", "p", "1", "0", "0"))),
                            1, List.of(List.of(s("ins", "p", "2", "0", "3"))))),
            new Cell("same, in one transaction", init("p:0:0:0"),
                    Map.of(0, List.of(List.of(s("upd", "p", "0", "=", "3"), s("ins", "p", "1", "0", "0"))),
                            1, List.of(List.of(s("ins", "p", "2", "0", "3"))))),
            new Cell("insert child / delete parent", init("p:1:0:null"),
                    Map.of(0, List.of(List.of(s("ins", "c", "1", "0", "1"))), 1, List.of(List.of(s("del", "p", "1"))))),
            new Cell("insert child, update it / delete parent", init("p:1:0:null"),
                    Map.of(0, List.of(List.of(s("ins", "c", "1", "0", "1")), List.of(s("upd", "c", "1", "5", "="))),
                            1, List.of(List.of(s("del", "p", "1"))))),
            new Cell("update child FK / delete parent", init("p:1:0:null", "p:2:0:null", "c:1:0:1"),
                    Map.of(0, List.of(List.of(s("upd", "c", "1", "=", "2"))), 1, List.of(List.of(s("del", "p", "2"))))),
            new Cell("move child, delete old parent / delete new parent", init("p:0:0:null", "p:1:0:null", "c:0:0:0"),
                    Map.of(0, List.of(List.of(s("upd", "c", "0", "=", "1")), List.of(s("del", "p", "0"))),
                            1, List.of(List.of(s("del", "p", "1"))))),
            new Cell("update keeping TOAST / delete", init("d:1:0:BIG"),
                    Map.of(0, List.of(List.of(s("upd", "d", "1", "1", "="))), 1, List.of(List.of(s("del", "d", "1"))))));

    @Test
    void everyInterleavingOfTheTwoTransactionCellsConverges() {
        checkCells(2);
    }

    @Test
    @Tag("slow")
    void everyInterleavingOfTheThreeTransactionCellsConverges() {
        checkCells(3);
    }

    private static void checkCells(int transactions) {
        for (Cell cell : CELLS) {
            if (cell.txns().values().stream().mapToInt(List::size).sum() != transactions) {
                continue;
            }
            int[] leaves = {0};
            List<String> failures = new ArrayList<>();
            explore(cell, new ArrayList<>(), leaves, failures);
            System.out.printf("cell %-50s %7d interleavings, %d failing%n", cell.name(), leaves[0], failures.size());
            assertThat(leaves[0]).as("interleavings of %s within the limit", cell.name()).isLessThan(LEAF_LIMIT);
            assertThat(failures).as("cell %s", cell.name()).isEmpty();
        }
    }

    private static void explore(Cell cell, List<SimHistory.Event> path, int[] leaves, List<String> failures) {
        if (leaves[0] >= LEAF_LIMIT || failures.size() > 0) {
            return;
        }
        SimCluster w = replay(cell, path);
        List<SimHistory.Event> next = enabled(cell, path, w);
        if (next.isEmpty()) {
            leaves[0]++;
            w.finalChecks();
            if (!w.failures.isEmpty()) {
                SimCluster traced = new SimCluster(2, cell.init(), true);
                path.forEach(ev -> SimHistory.run(traced, ev));
                traced.finalChecks();
                failures.add(w.failures + "\n" + String.join("\n", traced.trace));
            }
            return;
        }
        for (SimHistory.Event ev : next) {
            path.add(ev);
            explore(cell, path, leaves, failures);
            path.remove(path.size() - 1);
        }
    }

    private static SimCluster replay(Cell cell, List<SimHistory.Event> path) {
        SimCluster w = new SimCluster(2, cell.init(), false);
        path.forEach(ev -> SimHistory.run(w, ev));
        return w;
    }

    private static List<SimHistory.Event> enabled(Cell cell, List<SimHistory.Event> path, SimCluster w) {
        List<SimHistory.Event> out = new ArrayList<>();
        for (int n = 0; n < 2; n++) {
            int done = 0;
            for (SimHistory.Event ev : path) {
                done += ev.type() == 'L' && ev.node() == n ? 1 : 0;
            }
            List<List<SimDb.Stmt>> mine = cell.txns().getOrDefault(n, List.of());
            if (done < mine.size()) {
                out.add(new SimHistory.Event('L', n, mine.get(done)));
            }
            if (!w.nodes.get(n).outbox.isEmpty()) {
                out.add(new SimHistory.Event('A', n, List.of()));
            }
            if (w.nodes.get(n).halted == null && w.nodes.get(n).w < w.log.size()) {
                out.add(new SimHistory.Event('P', n, List.of()));
            }
        }
        return out;
    }
}
