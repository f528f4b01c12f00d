package io.chorus.coordinator.certify;

import io.chorus.changeset.Tuple;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * A seeded random history of the model (sim_cert.py, variant fix): initial rows, then events — local transactions of
 * 1-3 statements, appends of an outbox head to the log, a node processing its next GSN, watermark reports — then a
 * random drain; {@link #run} adds the deterministic drain and the final checks. Failing histories shrink.
 */
final class SimHistory {
    /** One event of a history. */
    record Event(char type, int node, List<SimDb.Stmt> stmts) {
        @Override
        public String toString() {
            return switch (type) {
                case 'L' -> "local txn on " + SimCluster.name(node) + ": " + stmts;
                case 'A' -> "append outbox head of " + SimCluster.name(node);
                case 'W' -> SimCluster.name(node) + " reports its watermark";
                case 'R' -> SimCluster.name(node) + "'s sidecar restarts";
                case 'l' -> "local txn on " + SimCluster.name(node) + ", captured later: " + stmts;
                case 'C' -> SimCluster.name(node) + "'s capture reports its oldest uncaptured commit";
                case 'D' -> SimCluster.name(node) + " delivers its next GSN (apply queued)";
                case 'B' -> SimCluster.name(node) + " applies its delivered GSNs in one transaction";
                case 'b' -> SimCluster.name(node) + " applies its next delivered GSN";
                case 'M' -> SimCluster.name(node) + " applies its delivered GSNs; the first run is lost and a local txn"
                        + " that waited for its rows commits before the re-run: " + stmts;
                case 'N' -> SimCluster.name(node) + " applies its delivered GSNs while a local txn on other rows commits: "
                        + stmts;
                default -> SimCluster.name(node) + " processes its next GSN";
            };
        }
    }

    /** Schema mode: which tables and constraints take part. */
    enum Mode { PK, FK, UNIQ, FKUNIQ;
        boolean fk() {
            return this == FK || this == FKUNIQ;
        }

        boolean uniq() {
            return this == UNIQ || this == FKUNIQ;
        }
    }

    private static final int NP = 3;
    private static final int NC = 3;
    private static final int NV = 3;
    private static final int NU = 4;

    final long seed;
    final Mode mode;
    final int nodes;
    final SimDb init;
    final List<Event> events;

    SimHistory(long seed, Mode mode, int nodes, SimDb init, List<Event> events) {
        this.seed = seed;
        this.mode = mode;
        this.nodes = nodes;
        this.init = init;
        this.events = List.copyOf(events);
    }

    /** Generates the history of {@code seed}, running it while generating (statements depend on the node's view). */
    static SimHistory generate(long seed, Mode forced) {
        return generate(seed, forced, true);
    }

    /**
     * @param extended also TOAST table d, watermark reports and sidecar restarts; false keeps to what the Python
     *                 model knows (for differential runs against it)
     */
    static SimHistory generate(long seed, Mode forced, boolean extended) {
        Random rng = new Random(seed);
        Mode mode = forced != null ? forced : Mode.values()[rng.nextInt(4)];
        int n = rng.nextInt(3) == 0 ? 2 : 3;
        SimDb init = initial(rng, mode, extended);
        SimCluster w = new SimCluster(n, init, false);
        List<Event> events = new ArrayList<>();
        int budget = 6 + rng.nextInt(35);
        for (int i = 0; i < budget; i++) {
            double x = rng.nextDouble();
            int node = rng.nextInt(n);
            Event ev;
            if (extended) {
                ev = extendedEvent(rng, x, node, mode, w);
            } else if (x < 0.38) {
                ev = new Event('L', node, statements(rng, mode, w.nodes.get(node).db.copy(), extended));
            } else if (x < 0.62) {
                ev = new Event('A', node, List.of());
            } else if (x < 0.66 && extended) {
                ev = new Event('W', node, List.of());
            } else if (x < 0.69 && extended) {
                ev = new Event('R', node, List.of());
            } else {
                ev = new Event('P', node, List.of());
            }
            events.add(ev);
            run(w, ev);
        }
        for (int i = 0; i < 400; i++) {
            List<Event> choices = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                if (!w.nodes.get(k).outbox.isEmpty()) {
                    choices.add(new Event('A', k, List.of()));
                }
                if (!w.nodes.get(k).uncaptured.isEmpty() && w.nodes.get(k).halted == null) {
                    choices.add(new Event('C', k, List.of()));
                }
                if (!w.nodes.get(k).queue.isEmpty() && w.nodes.get(k).halted == null) {
                    choices.add(new Event('B', k, List.of()));
                }
                if (w.nodes.get(k).halted == null && w.nodes.get(k).w < w.log.size()) {
                    choices.add(new Event('P', k, List.of()));
                }
            }
            if (choices.isEmpty()) {
                break;
            }
            Event ev = choices.get(rng.nextInt(choices.size()));
            events.add(ev);
            run(w, ev);
        }
        return new SimHistory(seed, mode, n, init, events);
    }

    /** An event of an extended history: also late captures, deliveries without apply and batched applies. */
    private static Event extendedEvent(Random rng, double x, int node, Mode mode, SimCluster w) {
        if (x < 0.38) {
            boolean late = rng.nextDouble() < 0.3;
            return new Event(late ? 'l' : 'L', node, statements(rng, mode, w.nodes.get(node).db.copy(), true));
        }
        if (x >= 0.76 && x < 0.78) {
            char type = x < 0.77 || mode != Mode.PK ? 'M' : 'N'; // 'N' knows row locks only (see SimApply)
            return new Event(type, node, statements(rng, mode, w.nodes.get(node).db.copy(), true));
        }
        char type;
        if (x < 0.56) {
            type = 'A';
        } else if (x < 0.60) {
            type = 'W';
        } else if (x < 0.63) {
            type = 'R';
        } else if (x < 0.73) {
            type = 'D';
        } else if (x < 0.78) {
            type = 'B';
        } else if (x < 0.81) {
            type = 'b';
        } else if (x < 0.85) {
            type = 'C';
        } else {
            type = 'P';
        }
        return new Event(type, node, List.of());
    }

    private static SimDb initial(Random rng, Mode mode, boolean extended) {
        SimDb db = new SimDb();
        List<Integer> us = new ArrayList<>(List.of(0, 1, 2, 3));
        Collections.shuffle(us, rng);
        List<String> parents = new ArrayList<>();
        for (int pk = 0; pk < NP; pk++) {
            if (rng.nextDouble() < 0.7) {
                String u = mode.uniq() ? String.valueOf(us.remove(0)) : null;
                db.put("p", String.valueOf(pk), Tuple.ofTexts(String.valueOf(pk), v(rng), u));
                parents.add(String.valueOf(pk));
            }
        }
        for (int pk = 0; mode.fk() && pk < NC; pk++) {
            if (!parents.isEmpty() && rng.nextDouble() < 0.5) {
                db.put("c", String.valueOf(pk), Tuple.ofTexts(String.valueOf(pk), v(rng),
                        parents.get(rng.nextInt(parents.size()))));
            }
        }
        for (int pk = 0; extended && pk < 2; pk++) {
            if (rng.nextDouble() < 0.5) {
                db.put("d", String.valueOf(pk), Tuple.ofTexts(String.valueOf(pk), v(rng), "doc" + v(rng)));
            }
        }
        return db;
    }

    private static String v(Random rng) {
        return String.valueOf(rng.nextInt(NV));
    }

    private static List<SimDb.Stmt> statements(Random rng, Mode mode, SimDb view, boolean extended) {
        int[] counts = {1, 1, 2, 2, 3};
        List<SimDb.Stmt> out = new ArrayList<>();
        for (int i = counts[rng.nextInt(counts.length)]; i > 0; i--) {
            SimDb.Stmt s = statement(rng, mode, view, extended);
            out.add(s);
            view.local(s);
        }
        return out;
    }

    private static SimDb.Stmt statement(Random rng, Mode mode, SimDb view, boolean extended) {
        double t = rng.nextDouble();
        String table = t < 0.1 && extended ? "d" : mode.fk() && t < 0.55 ? "c" : "p";
        String pk = String.valueOf(rng.nextInt(table.equals("d") ? 2 : table.equals("p") ? NP : NC));
        Map<String, Tuple> rows = view.tables.get(table);
        List<String> parents = new ArrayList<>(view.tables.get("p").keySet());
        String parent = parents.isEmpty() ? "0" : parents.get(rng.nextInt(parents.size()));
        if (!rows.containsKey(pk)) {
            if (rng.nextDouble() < 0.2) {
                return new SimDb.Stmt("upd", table, pk, Arrays.asList(v(rng), SimDb.KEEP));
            }
            return switch (table) {
                case "p" -> new SimDb.Stmt("ins", "p", pk, Arrays.asList(v(rng), mode.uniq() ? u(rng, view) : null));
                case "c" -> new SimDb.Stmt("ins", "c", pk, Arrays.asList(v(rng), parent));
                default -> new SimDb.Stmt("ins", "d", pk, Arrays.asList(v(rng), "doc" + v(rng)));
            };
        }
        if (rng.nextDouble() < 0.35) {
            return new SimDb.Stmt("del", table, pk, List.of());
        }
        return switch (table) {
            case "p" -> mode.uniq() && rng.nextDouble() < 0.6
                    ? new SimDb.Stmt("upd", "p", pk, Arrays.asList(rng.nextBoolean() ? SimDb.KEEP : v(rng), free(rng, view)))
                    : new SimDb.Stmt("upd", "p", pk, Arrays.asList(v(rng), SimDb.KEEP));
            case "c" -> rng.nextDouble() < 0.6
                    ? new SimDb.Stmt("upd", "c", pk, Arrays.asList(SimDb.KEEP, parent))
                    : new SimDb.Stmt("upd", "c", pk, Arrays.asList(v(rng), SimDb.KEEP));
            default -> new SimDb.Stmt("upd", "d", pk, Arrays.asList(v(rng), rng.nextDouble() < 0.7 ? SimDb.KEEP
                    : "doc" + v(rng)));
        };
    }

    private static String u(Random rng, SimDb view) {
        return rng.nextDouble() < 0.8 ? free(rng, view) : String.valueOf(rng.nextInt(NU));
    }

    private static String free(Random rng, SimDb view) {
        Set<String> used = new TreeSet<>();
        view.tables.get("p").values().forEach(r -> used.add(r.text(2)));
        List<String> free = new ArrayList<>();
        for (int u = 0; u < NU; u++) {
            if (!used.contains(String.valueOf(u))) {
                free.add(String.valueOf(u));
            }
        }
        return free.isEmpty() ? "0" : free.get(rng.nextInt(free.size()));
    }

    static void run(SimCluster w, Event ev) {
        switch (ev.type()) {
            case 'L' -> w.local(ev.node(), ev.stmts());
            case 'A' -> w.append(ev.node());
            case 'W' -> w.report(ev.node());
            case 'R' -> w.restart(ev.node());
            case 'l' -> w.local(ev.node(), ev.stmts(), true);
            case 'C' -> w.capture(ev.node());
            case 'D' -> w.deliver(ev.node());
            case 'B' -> w.applyBatch(ev.node(), Integer.MAX_VALUE);
            case 'b' -> w.applyBatch(ev.node(), 1);
            case 'M' -> w.applyBatchLosingFirstRun(ev.node(), ev.stmts());
            case 'N' -> w.applyBatchWithLocalDuring(ev.node(), ev.stmts());
            default -> w.process(ev.node());
        }
    }

    /** Replays the history, drains deterministically and runs the final checks. */
    SimCluster run(boolean tracing) {
        return replay(init, events, tracing);
    }

    private SimCluster replay(SimDb ini, List<Event> evs, boolean tracing) {
        SimCluster w = new SimCluster(nodes, ini, tracing);
        if (tracing) {
            w.trace.add("initial state on every node: " + ini);
        }
        evs.forEach(ev -> run(w, ev));
        if (tracing) {
            w.trace.add("-- final drain: every outbox appended, every node processes the rest of the log");
        }
        w.drain();
        w.sayFinal();
        w.finalChecks();
        return w;
    }

    /** The first failure's kind, or null when the history passes. */
    static String firstFailure(SimCluster w) {
        return w.failures.isEmpty() ? null : w.failures.get(0).kind();
    }

    /**
     * Deletes events, statements and initial rows while the history still fails with {@code kind}; bounded by a replay
     * budget so a pathological history cannot hang the test.
     */
    SimHistory shrink(String kind) {
        int[] budget = {5_000};
        List<Event> evs = new ArrayList<>(events);
        SimDb ini = init;
        boolean changed = true;
        while (changed && budget[0] > 0) {
            changed = false;
            for (int chunk = Math.max(1, evs.size() / 2); chunk >= 1; chunk /= 2) {
                int i = 0;
                while (i < evs.size() && budget[0] > 0) {
                    List<Event> cand = new ArrayList<>(evs.subList(0, i));
                    cand.addAll(evs.subList(Math.min(evs.size(), i + chunk), evs.size()));
                    if (fails(ini, cand, kind, budget)) {
                        evs = cand;
                        changed = true;
                    } else {
                        i += chunk;
                    }
                }
            }
            for (int i = 0; i < evs.size(); i++) {
                Event ev = evs.get(i);
                for (int j = 0; ev.stmts().size() > 1 && j < ev.stmts().size(); j++) {
                    List<SimDb.Stmt> fewer = new ArrayList<>(ev.stmts());
                    fewer.remove(j);
                    List<Event> cand = new ArrayList<>(evs);
                    cand.set(i, new Event(ev.type(), ev.node(), fewer));
                    if (fails(ini, cand, kind, budget)) {
                        evs = cand;
                        ev = cand.get(i);
                        changed = true;
                        j--;
                    }
                }
            }
            for (String table : List.of("c", "p", "d")) {
                for (String pk : new ArrayList<>(ini.tables.get(table).keySet())) {
                    SimDb cand = ini.copy();
                    cand.put(table, pk, null);
                    if (cand.orphans().isEmpty() && fails(cand, evs, kind, budget)) {
                        ini = cand;
                        changed = true;
                    }
                }
            }
        }
        return new SimHistory(seed, mode, nodes, ini, evs);
    }

    private boolean fails(SimDb ini, List<Event> evs, String kind, int[] budget) {
        budget[0]--;
        SimCluster w = replay(ini, evs, false);
        return w.failures.stream().anyMatch(f -> f.kind().equals(kind));
    }

    /** A readable report: the events, then the trace of the run. */
    String report() {
        SimCluster w = run(true);
        StringBuilder sb = new StringBuilder();
        sb.append("history of seed ").append(seed).append(" (mode ").append(mode).append(", ").append(nodes)
                .append(" nodes, ").append(events.size()).append(" events)\n");
        events.forEach(e -> sb.append("   event: ").append(e).append('\n'));
        w.trace.forEach(l -> sb.append("   | ").append(l).append('\n'));
        w.failures.forEach(f -> sb.append("   FAILURE ").append(f.kind()).append(": ").append(f.message()).append('\n'));
        return sb.toString();
    }
}
