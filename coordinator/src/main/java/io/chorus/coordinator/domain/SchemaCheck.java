package io.chorus.coordinator.domain;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.schema.SchemaAtWatermark;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The schema check of every (re)start, rejoin and incremental transfer (DESIGN §6): the database must still have the
 * group's schema at its watermark W ({@link SchemaAtWatermark}, recorded by the helpers with every DDL they pass, and
 * by a full transfer, which compares with its donor itself). A difference is refused before the node applies anything
 * above W or goes ONLINE, naming every difference; the sidecar's restart back-off checks again, so undoing the change
 * is enough.
 *
 * <p>The one legitimate difference: this node's own DDL that committed after W and is not applied here yet. Either it
 * was not delivered back yet (the capture re-emits it from the slot), or — sync mode only, where the slot forgets an
 * own changeset at its delivery ({@code OwnConfirmations}) — it was ordered above W and the node stopped before the
 * helper passed it; the delivery noted its GSN first ({@link SchemaAtWatermark#noteOwnDdlOrdered}). Both are the
 * group's DDL, already run here: the check is skipped for that start (logged); the DDL's apply records the schema
 * again, and the next start compares with that. Stateless.
 */
final class SchemaCheck {
    private static final Logger LOG = LogManager.getLogger(SchemaCheck.class);

    private SchemaCheck() {
    }

    /**
     * Before the replay: after a full transfer records the schema it checked against its donor at {@code w}; without
     * a record (a database enabled before the record existed, or a new group) records the current one as W's. Returns
     * the record to check against, or empty when there is nothing to check. Blocking.
     */
    static Optional<SchemaAtWatermark.Recorded> prepare(Connection c, Gsn w, boolean transferred, String database)
            throws SQLException {
        if (transferred) {
            SchemaAtWatermark.forgetOwnDdlOrdered(c); // a note of the replaced database's history
            SchemaAtWatermark.record(c, w);
            return Optional.empty();
        }
        Optional<SchemaAtWatermark.Recorded> recorded = SchemaAtWatermark.read(c);
        if (recorded.isEmpty()) {
            SchemaAtWatermark.Recorded now = SchemaAtWatermark.record(c, w);
            LOG.info("database {}: no schema recorded at its watermark yet; recorded the current one ({}, {} lines) as "
                    + "W={}'s", database, now.sha256(), now.lines().size(), w);
        }
        return recorded;
    }

    /**
     * After the replay reached W, before anything above W is applied: refuses a changed schema (see
     * {@link SchemaAtWatermark#requireUnchanged}) unless {@code ownUndelivered} holds DDL or this node's own DDL was
     * ordered above W ({@code ownDdlOrdered}, read at the start). Blocking.
     */
    static void verify(Connection c, SchemaAtWatermark.Recorded recorded, Gsn w, String database,
                       List<ChangeSet> ownUndelivered, Gsn ownDdlOrdered) {
        if (ownDdlOrdered.isAfter(w)) {
            LOG.info("database {}: schema check at W={} skipped: this node's own DDL ordered at GSN {} is not applied "
                    + "here yet (its slot let go of it at its delivery, sync mode)", database, w, ownDdlOrdered);
            return;
        }
        for (ChangeSet cs : ownUndelivered) {
            if (SchemaChanges.hasDdl(cs)) {
                LOG.info("database {}: schema check at W={} skipped: this node's own DDL ({}) is not delivered yet",
                        database, w, cs.gtid());
                return;
            }
        }
        SchemaAtWatermark.requireUnchanged(c, recorded, w, database);
        LOG.info("database {}: schema unchanged since GSN {} ({} lines, {})", database, recorded.gsn(),
                recorded.lines().size(), recorded.sha256());
    }
}
