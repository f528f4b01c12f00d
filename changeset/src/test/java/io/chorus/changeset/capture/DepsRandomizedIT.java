package io.chorus.changeset.capture;

import static io.chorus.changeset.capture.CaptureTestSupport.TIMEOUT;
import static io.chorus.changeset.capture.CaptureTestSupport.config;
import static io.chorus.changeset.capture.CaptureTestSupport.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.RowChange;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A seeded random interleaving of local commits, helper commits (increasing GSNs on two helper origins), random
 * deliveries, walsender kills and capture restarts from the state file. Commits run one at a time, so the ground
 * truth of deps is the GSN of the last helper commit before each local one in execution order. Every local changeset
 * must arrive (deduped by GTID) in commit order with exactly that deps. Replay: -Dchorus.deps.seed=N.
 */
class DepsRandomizedIT {
    private static final int OPS = Integer.getInteger("chorus.deps.ops", 300);

    /** A consumer that delivers at random, remembers deliveries across capture restarts and dedupes by GTID. */
    private static final class Consumer implements CaptureListener {
        final Map<Gtid, ChangeSet> seen = new LinkedHashMap<>();
        final Set<Gtid> delivered = new HashSet<>();
        final List<Gtid> undelivered = new ArrayList<>();
        volatile SlotCapture capture;
        volatile ChorusException failure;
        int duplicates;

        @Override
        public synchronized void onLocalChangeSet(ChangeSet cs) {
            if (seen.putIfAbsent(cs.gtid(), cs) != null) {
                duplicates++;
                assertThat(cs.deps()).as("re-emitted %s keeps its deps", cs.gtid()).isEqualTo(seen.get(cs.gtid()).deps());
                if (delivered.contains(cs.gtid())) {
                    capture.markDelivered(cs.gtid().commitLsn()); // a new capture cannot know it was delivered before
                }
                return;
            }
            undelivered.add(cs.gtid());
        }

        @Override
        public void onHelperCommit(String originName, Gsn appliedGsn, Lsn commitLsn) {
        }

        @Override
        public void onFailure(ChorusException cause) {
            failure = cause;
        }

        synchronized void deliverSome(Random rnd) {
            int n = undelivered.isEmpty() ? 0 : rnd.nextInt(undelivered.size() + 1);
            for (int i = 0; i < n; i++) {
                Gtid g = undelivered.remove(rnd.nextInt(undelivered.size()));
                delivered.add(g);
                capture.markDelivered(g.commitLsn());
            }
        }

        synchronized List<ChangeSet> inOrder() {
            return new ArrayList<>(seen.values());
        }
    }

    @Test
    void depsAreExactAcrossReconnectsAndRestarts() throws Exception {
        long seed = Long.getLong("chorus.deps.seed", System.nanoTime());
        System.out.println("DepsRandomizedIT seed " + seed + " (replay with -Dchorus.deps.seed=" + seed + ")");
        Random rnd = new Random(seed);
        try (PgServer pg = PgServer.start("deps")) {
            pg.createDatabase("deps");
            exec(pg, "deps", "CREATE TABLE t(id int PRIMARY KEY)", "SELECT pg_replication_origin_create('chorus_h1')",
                    "SELECT pg_replication_origin_create('chorus_h2')");
            CaptureConfig cfg = config(pg, "deps");
            Consumer consumer = new Consumer();
            List<Gsn> expectedDeps = new ArrayList<>();
            int kills = 0;
            int restarts = 0;
            SlotCapture cap = start(cfg, consumer);
            try (Connection local = pg.connect("deps"); Statement ls = local.createStatement();
                 Connection h1 = helper(pg, "chorus_h1"); Connection h2 = helper(pg, "chorus_h2")) {
                long gsn = 0;
                for (int op = 0; op < OPS; op++) {
                    int r = rnd.nextInt(100);
                    if (r < 50) {
                        ls.execute("INSERT INTO t VALUES (" + expectedDeps.size() + ")");
                        expectedDeps.add(Gsn.of(gsn));
                    } else if (r < 80) {
                        gsn++;
                        try (Statement hs = (rnd.nextBoolean() ? h1 : h2).createStatement()) {
                            hs.execute("BEGIN; SELECT pg_replication_origin_xact_setup('0/" + Long.toHexString(gsn)
                                    + "', now()); INSERT INTO t VALUES (" + (1_000_000 + gsn) + "); COMMIT");
                        }
                    } else if (r < 95) {
                        consumer.deliverSome(rnd);
                    } else if (r < 98) {
                        kills += terminateWalsender(pg, cfg.slotName()) ? 1 : 0;
                    } else {
                        cap.close();
                        cap = start(cfg, consumer);
                        restarts++;
                    }
                }
                int locals = expectedDeps.size();
                Await.until(locals + " local changesets", TIMEOUT, () -> consumer.inOrder().size() >= locals,
                        () -> "(have " + consumer.inOrder().size() + ", failure " + consumer.failure + ")");
                List<ChangeSet> got = consumer.inOrder();
                assertThat(got).hasSize(locals);
                for (int i = 0; i < locals; i++) {
                    assertThat(((RowChange) got.get(i).changes().get(0)).newTuple().text(0)).isEqualTo(Integer.toString(i));
                    assertThat(got.get(i).deps()).as("deps of local commit %d (seed %d)", i, seed).isEqualTo(expectedDeps.get(i));
                }
                System.out.printf("%d ops: %d local commits, %d helper commits, %d walsender kills, %d restarts, %d re-emitted%n",
                        OPS, locals, gsn, kills, restarts, consumer.duplicates);
                assertThat(consumer.failure).isNull();
            } finally {
                cap.close();
            }
        }
    }

    private static SlotCapture start(CaptureConfig cfg, Consumer consumer) {
        SlotCapture cap = new SlotCapture(cfg, consumer);
        consumer.capture = cap;
        cap.start();
        return cap;
    }

    private static Connection helper(PgServer pg, String origin) throws SQLException {
        Connection c = pg.connect("deps");
        try (Statement st = c.createStatement()) {
            st.execute("SELECT pg_replication_origin_session_setup('" + origin + "')");
        }
        return c;
    }

    private static boolean terminateWalsender(PgServer pg, String slot) throws SQLException {
        try (Connection c = pg.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots"
                     + " WHERE slot_name = '" + slot + "' AND active_pid IS NOT NULL")) {
            return rs.next() && rs.getBoolean(1);
        }
    }
}
