package io.chorus.coordinator.domain;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Column;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.schema.DdlMessage;
import io.chorus.coordinator.config.NodeConfig;
import io.chorus.schema.Catalog;
import io.chorus.schema.KeyDeriver;
import io.chorus.schema.SchemaFingerprint;
import io.chorus.schema.TableInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Gives each captured row change, at its origin, what the rest of the group needs to certify and apply it without a
 * catalog of its own: the certification keys (DESIGN §3) and key flags that mark exactly the primary key (pgoutput
 * marks every column under REPLICA IDENTITY FULL). Owned by the capture thread; not thread-safe. Its catalog
 * connection is opened again when it was lost (server restart, terminated backend). It also records the schema
 * fingerprint ({@link SchemaFingerprint#record}, shown by {@code chorus.schema_fingerprint()}) at start and after every
 * DDL the capture sees commit here, local or applied by a helper.
 */
final class KeyEnricher implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(KeyEnricher.class);
    private static final int VALID_TIMEOUT_SECONDS = 2;
    private static final long VISIBLE_WAIT_MS = 5_000;
    private final NodeConfig.Postgres pg;
    private final String database;
    private Connection connection;
    private Catalog catalog;
    private final Map<Relation, Relation> rekeyed = new HashMap<>();
    private final Map<RelationName, TableInfo> lastKnown = new HashMap<>();

    KeyEnricher(NodeConfig.Postgres pg, String database) {
        this.pg = pg;
        this.database = database;
        open();
        recordFingerprint();
    }

    /** Records the schema fingerprint; a failure is logged (the capture goes on, status shows the older one). */
    private void recordFingerprint() {
        try {
            String sha = SchemaFingerprint.record(connection);
            LOG.info("schema fingerprint of {}: {}", database, sha);
        } catch (SQLException | RuntimeException e) {
            LOG.warn("cannot record the schema fingerprint of {}: {}", database, e.getMessage());
        }
    }

    private void open() {
        try {
            this.connection = pg.connect(database, "chorus-catalog");
            this.catalog = new Catalog(connection);
        } catch (SQLException e) {
            throw new ChorusException("cannot open the catalog connection to " + database + ": " + e.getMessage(), e, true);
        }
    }

    /**
     * After a server restart or a terminated backend the catalog connection is dead: opens a new one and returns
     * true; false when the connection still works (the error was about the table itself).
     */
    private boolean reopenIfBroken() {
        try {
            if (connection.isValid(VALID_TIMEOUT_SECONDS)) {
                return false;
            }
        } catch (SQLException e) {
            // treated as broken
        }
        try {
            connection.close();
        } catch (SQLException e) {
            // already broken
        }
        LOG.info("catalog connection to {} was lost; opening a new one", database);
        open();
        rekeyed.clear();
        return true;
    }

    /**
     * Keys every row change. A relation seen with a new shape (pgoutput announces a changed definition) is read from
     * the catalog again, and so is every table after a DDL message: the changes that follow it in the changeset were
     * written against the new definition.
     */
    ChangeSet enrich(ChangeSet cs) {
        List<Change> out = new ArrayList<>(cs.changes().size());
        boolean ddl = false;
        for (Change c : cs.changes()) {
            if (c instanceof RowChange rc) {
                if (!rekeyed.containsKey(rc.relation())) {
                    catalog.invalidate(rc.relation().name());
                }
                TableInfo t = table(rc.relation().name());
                Relation r = rekeyed.computeIfAbsent(rc.relation(), rel -> withKeyColumns(rel, t.identityColumns()));
                RowChange keyed = new RowChange(r, rc.op(), rc.newTuple(), rc.oldTuple(), rc.oldIsKeyOnly(), List.of());
                out.add(keyed.withKeys(KeyDeriver.keys(keyed, t)));
            } else {
                if (DdlMessage.isDdl(c)) {
                    catalog.invalidate();
                    ddl = true;
                }
                out.add(c);
            }
        }
        if (ddl) {
            recordFingerprint();
        }
        return cs.withChanges(out);
    }

    /**
     * The table's catalog entry; the last one known when the table is gone, since the capture decodes a commit after
     * later DDL may have renamed or dropped its table.
     */
    private TableInfo table(RelationName name) {
        try {
            TableInfo t = catalog.table(name);
            lastKnown.put(name, t);
            return t;
        } catch (ChorusException e) {
            if (reopenIfBroken()) {
                TableInfo t = catalog.table(name); // a failure now goes to the capture, which retries
                lastKnown.put(name, t);
                return t;
            }
            TableInfo known = lastKnown.get(name);
            return known != null ? known : awaitVisible(name, e);
        }
    }

    /**
     * A table the decoded transaction created itself: the walsender may send a commit as soon as its record is
     * flushed, a moment before the committing session leaves the proc array and other sessions see what it did. Reads
     * the catalog again until the table shows, for at most {@value #VISIBLE_WAIT_MS} ms.
     */
    private TableInfo awaitVisible(RelationName name, ChorusException missing) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(VISIBLE_WAIT_MS);
        while (System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // poll interval of a bounded wait
            try {
                TableInfo t = catalog.table(name);
                lastKnown.put(name, t);
                LOG.info("table {} became visible to the catalog connection after its commit was decoded", name);
                return t;
            } catch (ChorusException notYet) {
                // the committing session has not finished yet
            }
        }
        throw missing;
    }

    /** Forgets cached table definitions and records the new fingerprint (after DDL). */
    void invalidate() {
        catalog.invalidate();
        rekeyed.clear();
        recordFingerprint();
    }

    private static Relation withKeyColumns(Relation rel, List<String> identity) {
        List<Column> cols = new ArrayList<>(rel.columns().size());
        for (Column c : rel.columns()) {
            cols.add(new Column(c.name(), identity.contains(c.name()), c.typeOid(), c.typeModifier()));
        }
        return new Relation(rel.name(), rel.replicaIdentity(), cols);
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
