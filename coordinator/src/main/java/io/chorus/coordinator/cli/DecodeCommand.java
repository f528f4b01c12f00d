package io.chorus.coordinator.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.changeset.Tuple;
import io.chorus.changeset.capture.CaptureConfig;
import io.chorus.changeset.capture.CaptureConfig.SlotMode;
import io.chorus.changeset.capture.CaptureListener;
import io.chorus.changeset.capture.SlotCapture;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code chorus decode}: prints the committed transactions of a database as JSON lines, one per changeset, until
 * interrupted (Ctrl-C closes the slot's stream cleanly) or {@code --limit} changesets were printed.
 *
 * <p>Without {@code --slot} a temporary slot is used: it shows the transactions committed after the command started,
 * holds no WAL once the command ends and never interferes with a sidecar's slot. With {@code --slot NAME} the named
 * permanent slot is consumed and advanced past every printed changeset (its position is kept in {@code --state-dir});
 * it must exist unless {@code --create-slot} is given. Either way the publication {@code chorus} (FOR ALL TABLES) is
 * created if missing. Helper (applier) transactions are not printed.
 */
@Command(name = "decode", mixinStandardHelpOptions = true,
        description = "Print a database's committed transactions as JSON lines (one per changeset) until interrupted.")
public final class DecodeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--url", required = true, description = "JDBC URL of the database (a user with REPLICATION)")
    String url;

    @Option(names = "--slot", description = "permanent logical slot to consume (default: a temporary slot)")
    String slot;

    @Option(names = "--create-slot", description = "create the --slot when it does not exist")
    boolean createSlot;

    @Option(names = "--node", defaultValue = "local", description = "node id shown in GTIDs (default ${DEFAULT-VALUE})")
    String node;

    @Option(names = "--state-dir", description = "folder for the slot's capture state (default: a new temporary folder)")
    Path stateDir;

    @Option(names = "--limit", defaultValue = "0", description = "stop after this many changesets (0: until interrupted)")
    int limit;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (createSlot && slot == null) {
            throw new IllegalArgumentException("--create-slot needs --slot NAME (without --slot a temporary slot is used)");
        }
        PrintWriter out = spec.commandLine().getOut();
        String database = currentDatabase(url);
        CaptureConfig cfg = CaptureConfig.of(url, database, NodeId.of(node),
                stateDir != null ? stateDir : Files.createTempDirectory("chorus-decode-"));
        cfg = slot == null ? cfg.withSlot("chorus_decode_" + ProcessHandle.current().pid(), SlotMode.TEMPORARY)
                : cfg.withSlot(slot, createSlot ? SlotMode.CREATE_IF_MISSING : SlotMode.EXISTING);
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<ChorusException> failure = new AtomicReference<>();
        Printer printer = new Printer(out, limit, done, failure);
        SlotCapture capture = new SlotCapture(cfg, printer);
        printer.capture = capture;
        Thread hook = new Thread(() -> {
            capture.close();
            done.countDown();
        }, "chorus-decode-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            capture.start();
            done.await();
        } finally {
            capture.close();
            removeHook(hook);
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return 0;
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // the JVM is already shutting down (Ctrl-C): the hook is running
        }
    }

    private static String currentDatabase(String url) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_database()")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Prints each changeset as it arrives (on the capture thread) and releases it. */
    private static final class Printer implements CaptureListener {
        private final PrintWriter out;
        private final int limit;
        private final CountDownLatch done;
        private final AtomicReference<ChorusException> failure;
        private final AtomicInteger printed = new AtomicInteger();
        volatile SlotCapture capture;

        Printer(PrintWriter out, int limit, CountDownLatch done, AtomicReference<ChorusException> failure) {
            this.out = out;
            this.limit = limit;
            this.done = done;
            this.failure = failure;
        }

        @Override
        public void onLocalChangeSet(ChangeSet cs) {
            if (limit > 0 && printed.get() >= limit) {
                return;
            }
            out.println(toJson(cs));
            out.flush();
            capture.markDelivered(cs.gtid().commitLsn());
            if (limit > 0 && printed.incrementAndGet() >= limit) {
                done.countDown();
            }
        }

        @Override
        public void onHelperCommit(String originName, Gsn appliedGsn, Lsn commitLsn) {
            // applied remote changesets are not this database's own transactions
        }

        @Override
        public void onFailure(ChorusException cause) {
            failure.set(cause);
            done.countDown();
        }
    }

    static String toJson(ChangeSet cs) {
        ObjectNode root = JSON.createObjectNode();
        root.put("gtid", cs.gtid().toString());
        root.put("commit_lsn", cs.gtid().commitLsn().toString());
        root.put("xid", cs.xid());
        root.put("commit_time", cs.commitTime().toString());
        root.put("deps", cs.deps().value());
        ArrayNode changes = root.putArray("changes");
        for (Change c : cs.changes()) {
            changes.add(change(c));
        }
        return root.toString();
    }

    private static ObjectNode change(Change c) {
        ObjectNode n = JSON.createObjectNode();
        if (c instanceof RowChange r) {
            n.put("relation", r.relation().name().toString());
            n.put("op", r.op().name());
            n.set("key", key(r.relation(), r.identityTuple()));
            if (r.newTuple() != null) {
                n.set("columns", columns(r.relation(), r.newTuple(), false));
            }
            if (r.oldTuple() != null) {
                n.set("old", columns(r.relation(), r.oldTuple(), r.oldIsKeyOnly()));
            }
        } else if (c instanceof TruncateChange t) {
            ArrayNode rels = n.putArray("truncate");
            for (RelationName name : t.relations()) {
                rels.add(name.toString());
            }
            n.put("cascade", t.cascade());
            n.put("restart_identity", t.restartIdentity());
        } else {
            MessageChange m = (MessageChange) c;
            ObjectNode msg = n.putObject("message");
            msg.put("prefix", m.prefix());
            msg.put("content_base64", m.content()); // Jackson writes byte[] as base64
        }
        return n;
    }

    private static ObjectNode key(Relation rel, Tuple identity) {
        ObjectNode key = JSON.createObjectNode();
        for (int i = 0; i < rel.columnCount(); i++) {
            if (rel.columns().get(i).key()) {
                value(key, rel.columns().get(i).name(), identity, i);
            }
        }
        return key;
    }

    private static ObjectNode columns(Relation rel, Tuple t, boolean keyOnly) {
        ObjectNode cols = JSON.createObjectNode();
        for (int i = 0; i < rel.columnCount(); i++) {
            if (!keyOnly || rel.columns().get(i).key()) {
                value(cols, rel.columns().get(i).name(), t, i);
            }
        }
        return cols;
    }

    private static void value(ObjectNode into, String name, Tuple t, int i) {
        switch (t.state(i)) {
            case NULL -> into.putNull(name);
            case UNCHANGED -> into.putObject(name).put("unchanged_toast", true);
            case TEXT -> into.put(name, t.text(i));
        }
    }
}
