package io.chorus.coordinator.domain;

import io.chorus.changeset.ChorusException;
import io.chorus.gcs.GcsException;
import io.chorus.recovery.Transfer;
import io.chorus.recovery.TransferNeededException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A node refused by its group because its log or database holds GSNs past a fork of the group's history (a forced
 * bootstrap it missed; {@link GcsException.Kind#PAST_FORK}) rejoins by itself: the refusal marks a full transfer in
 * the database with the refusal as its reason, and the group folder to move aside; the domain stops, and its restart
 * saves the undelivered local commits in {@code chorus.saved_commits} ({@link RejoinPreparation}), renames the old
 * group folder (never deletes it) and copies the group's data (DESIGN §7).
 *
 * <p>Only that refusal is acted on. Not automatic, because copying from the group would be wrong or unsafe: the
 * answering member is the one of the older history (it then refuses with {@code REFUSED}: this node may hold the
 * newer data); the two histories diverged (forced bootstraps on both sides of a split: which side to keep is the
 * operator's decision); the group identity differs; the database's line diverged from its own log's (a folder of
 * another side put in place). Those keep the refusal's full message in {@code chorus.status()}. A rename that fails
 * also stops there, naming the folder. Stateless; blocking (SQL, one rename).
 */
final class PastFork {
    private static final Logger LOG = LogManager.getLogger(PastFork.class);
    /** chorus.meta key: the group folder a refusal past a fork left behind, to move aside before the transfer. */
    static final String FOLDER = "group_folder_past_fork";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

    private PastFork() {
    }

    /**
     * Records the transfer and the folder to move aside; returns the exception the domain stops with (it restarts
     * the domain: {@code RestartSchedule}). Commits before it returns.
     */
    static TransferNeededException rejoin(Connection c, String database, String groupName, Path groupDir,
                                          GcsException refusal) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            Transfer.markNeeded(c, "past a fork of the group's history: " + refusal.getMessage());
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO chorus.meta (key, value) VALUES (?, ?) "
                    + "ON CONFLICT (key) DO UPDATE SET value = excluded.value")) {
                ps.setString(1, FOLDER);
                ps.setString(2, groupDir.toString());
                ps.execute();
            }
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
        LOG.info("database {}: refused by group {} past a fork of its history; a full transfer is marked: its "
                + "undelivered local commits are saved first and its group folder {} is moved aside", database,
                groupName, groupDir);
        return new TransferNeededException("database " + database + " was refused by group " + groupName
                + " because its data is past a fork of the group's history (" + refusal.getMessage() + "); it "
                + "rejoins by itself with a full transfer: its undelivered local commits are saved in "
                + "chorus.saved_commits and its group folder " + groupDir + " is moved aside, not deleted");
    }

    /**
     * Before the transfer, once the local commits are saved: renames the marked group folder to
     * {@code group.past-fork-<UTC time>} beside it and clears the mark. Returns where it went; null when nothing was
     * marked (or the folder was gone already).
     */
    static Path moveAside(Connection c, String database) throws SQLException {
        String marked = marked(c);
        if (marked == null) {
            return null;
        }
        Path dir = Path.of(marked);
        Path to = null;
        if (Files.exists(dir)) {
            to = dir.resolveSibling(dir.getFileName() + ".past-fork-"
                    + STAMP.format(ZonedDateTime.now(ZoneOffset.UTC)));
            try {
                Files.move(dir, to);
            } catch (IOException e) {
                throw new ChorusException("database " + database + ": cannot move the group folder " + dir + " of "
                        + "the history before the fork aside to " + to + " (" + e + "); move it away by hand: the "
                        + "domain retries its full transfer", e);
            }
            LOG.info("database {}: group folder {} of the history before the fork moved to {}", database, dir, to);
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM chorus.meta WHERE key = ?")) {
            ps.setString(1, FOLDER);
            ps.execute();
        }
        return to;
    }

    private static String marked(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT value FROM chorus.meta WHERE key = ?")) {
            ps.setString(1, FOLDER);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
