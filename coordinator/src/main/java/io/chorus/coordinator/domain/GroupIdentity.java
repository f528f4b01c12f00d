package io.chorus.coordinator.domain;

import io.chorus.changeset.ChorusException;
import io.chorus.gcs.History;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;

/**
 * The group identity stored in each replicated database ({@code chorus.meta}): created by the bootstrapping node,
 * adopted by the others, and checked at every join so that a database never joins a group it was not part of.
 */
final class GroupIdentity {
    private GroupIdentity() {
    }

    /** The identity to join with: the stored one, a new one when bootstrapping, or null to adopt the group's. */
    static UUID resolve(Connection c, String groupName, boolean bootstrap) throws SQLException {
        String storedGroup = get(c, "group_name");
        String storedId = get(c, "group_identity");
        if (storedGroup != null && !storedGroup.equals(groupName)) {
            throw new ChorusException("database " + c.getCatalog() + " belonged to group " + storedGroup
                    + ", not " + groupName + "; run SELECT chorus.disable() and enable it again to move it");
        }
        if (storedId != null) {
            return UUID.fromString(storedId);
        }
        put(c, "group_name", groupName);
        if (bootstrap) {
            UUID id = UUID.randomUUID();
            put(c, "group_identity", id.toString());
            return id;
        }
        return null;
    }

    /**
     * The refusal of a join, told from the database's side: which group identity the database belongs to, the
     * group's refusal (which names the group's identity, or histories this node cannot join with), and how to bring
     * the database back: for another identity, move it into this group; for diverged histories, rejoin the nodes of
     * the side not kept by a full transfer with the group's log folder {@code groupDir} moved away. A node past a
     * fork ({@code PAST_FORK}) does not get here: {@link PastFork} copies it by itself.
     */
    static ChorusException refused(String database, String groupName, UUID stored, Path groupDir,
                                   io.chorus.gcs.GcsException e) {
        if (e.kind() != io.chorus.gcs.GcsException.Kind.REFUSED) {
            return new ChorusException(e.getMessage(), e);
        }
        return new ChorusException("database " + database + (stored == null ? "" : " belongs to group identity "
                + stored + " (chorus.meta) and")  + " was refused by group " + groupName + ": " + e.getMessage()
                + ". If the refusal names another group identity, this database holds another group's history; to make "
                + "it a member of " + groupName + " with the group's data (its own rows are replaced): SELECT "
                + "chorus.disable(); SELECT chorus.request_full_transfer(); SELECT chorus.enable('" + groupName + "');"
                + " If it names diverged histories (a forced bootstrap on each side), keep one side; on each node of the "
                + "other: SELECT chorus.request_full_transfer(); then stop its sidecar, move " + groupDir + " away and "
                + "start the sidecar: it rejoins by a full transfer (its rows are replaced, its undelivered local "
                + "commits are saved in chorus.saved_commits first). If it says the answering member holds the old "
                + "data, this node is of the newer history: start it again once a member of that history leads the "
                + "group (a node past a fork is copied by itself, without this message)", e);
    }

    static void store(Connection c, UUID identity) throws SQLException {
        put(c, "group_identity", identity.toString());
    }

    /**
     * The group's history line the database's data belongs to ({@value #HISTORY}; {@link History#FIRST} when none was
     * stored: a database that never saw a forced bootstrap). Presented at every join beside the log's, so that a
     * database of an older history past a fork is refused even when its group folder was emptied.
     */
    static History history(Connection c) throws SQLException {
        try {
            return History.decode(get(c, HISTORY));
        } catch (IllegalArgumentException e) {
            throw new ChorusException("chorus.meta of database " + c.getCatalog() + " holds an unreadable " + HISTORY
                    + ": " + e.getMessage() + "; delete that row and request a full transfer", e);
        }
    }

    /**
     * Stores the history line the database's data now belongs to, with its id and fork GSN in words for the
     * operator ({@value #HISTORY_ID}, {@value #HISTORY_FORK_GSN}); one transaction when the connection commits.
     */
    static void storeHistory(Connection c, History line) throws SQLException {
        put(c, HISTORY, line.encode());
        put(c, HISTORY_ID, line.id().toString());
        put(c, HISTORY_FORK_GSN, Long.toString(line.forkGsn()));
    }

    /** chorus.meta key of the stored history line (Base64, {@link History#encode}). */
    static final String HISTORY = "group_history";
    static final String HISTORY_ID = "group_history_id";
    static final String HISTORY_FORK_GSN = "group_history_fork_gsn";

    static void forget(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM chorus.meta WHERE key IN ('group_name', "
                + "'group_identity', '" + HISTORY + "', '" + HISTORY_ID + "', '" + HISTORY_FORK_GSN + "')")) {
            ps.execute();
        }
    }

    private static String get(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT value FROM chorus.meta WHERE key = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static void put(Connection c, String key, String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO chorus.meta(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")) {
            ps.setString(1, key);
            ps.setString(2, value);
            ps.execute();
        }
    }
}
