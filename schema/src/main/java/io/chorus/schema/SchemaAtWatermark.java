package io.chorus.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The group's schema at this node's watermark W, kept in the database (DESIGN §6): the description
 * ({@link SchemaFingerprint#describe}) read inside the transaction that applied the last DDL changeset at or below W
 * (a remote one the helper ran, or this node's own one delivered back), or after the full transfer that set W. It is
 * written in the same transaction as the apply progress, so it always belongs to W: DDL runs on every node as a barrier
 * in GSN order, so every node that reached W has this schema — unless someone changed it outside the replication path.
 * Every (re)start compares the database with it ({@link #requireUnchanged}).
 *
 * <p>Stored in {@code chorus.meta}, key {@value #META_KEY}: {@code {"gsn":...,"sha256":...,"lines":[...]}}.
 * Stateless and thread-safe; every method blocks on its connection.
 */
public final class SchemaAtWatermark {
    /** The {@code chorus.meta} key. */
    public static final String META_KEY = "schema_at_w";
    /** The {@code chorus.meta} key of the highest GSN this node's own DDL was ordered at ({@link #noteOwnDdlOrdered}). */
    public static final String OWN_DDL_KEY = "own_ddl_ordered";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A recorded schema.
     *
     * @param gsn   the GSN of the DDL (or of the transfer) after which it was read
     * @param lines the description lines, sorted
     */
    public record Recorded(Gsn gsn, String sha256, List<String> lines) {
        public Recorded {
            lines = List.copyOf(lines);
        }
    }

    private SchemaAtWatermark() {
    }

    /**
     * Records the database's current schema as the group's after {@code gsn}, in the connection's transaction (or
     * committed at once in auto-commit mode).
     */
    public static Recorded record(Connection connection, Gsn gsn) throws SQLException {
        List<String> lines = SchemaFingerprint.describe(connection);
        Recorded r = new Recorded(gsn, SchemaFingerprint.sha256(String.join("\n", lines)), lines);
        SchemaFingerprint.store(connection, META_KEY, JSON.createObjectNode().put("gsn", gsn.value())
                .put("sha256", r.sha256()), lines);
        return r;
    }

    /** The recorded schema, or empty when none was recorded yet (a database enabled before this record existed). */
    public static Optional<Recorded> read(Connection connection) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("SELECT value FROM chorus.meta WHERE key = ?")) {
            ps.setString(1, META_KEY);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                JsonNode json = JSON.readTree(rs.getString(1));
                List<String> lines = new ArrayList<>();
                json.path("lines").forEach(l -> lines.add(l.asText()));
                return Optional.of(new Recorded(Gsn.of(json.path("gsn").asLong()), json.path("sha256").asText(), lines));
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ChorusException("chorus.meta key " + META_KEY + " does not hold the recorded schema ("
                    + e.getOriginalMessage() + "): delete that row, and the next start records the schema again", e);
        }
    }

    /**
     * Notes, committed at once (the connection must be in auto-commit mode), that this node's own DDL changeset was
     * ordered at {@code gsn}. Sync mode lets the slot forget an own changeset at its delivery, before the helper that
     * passes it records the schema: a crash in between leaves that DDL in the database, above W, and nowhere else this
     * node could see it at its restart but here ({@link #ownDdlOrdered}). The caller's connection must not wait for a
     * synchronous standby (the sidecar is that standby): {@code synchronous_commit = local} makes the note durable.
     */
    public static void noteOwnDdlOrdered(Connection connection, Gsn gsn) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("INSERT INTO chorus.meta (key, value) VALUES (?, ?) "
                + "ON CONFLICT (key) DO UPDATE SET value = excluded.value")) {
            ps.setString(1, OWN_DDL_KEY);
            ps.setString(2, JSON.createObjectNode().put("gsn", gsn.value()).toString());
            ps.execute();
        }
    }

    /** The GSN of the last {@link #noteOwnDdlOrdered noted} own DDL, or {@code Gsn.NONE}. */
    public static Gsn ownDdlOrdered(Connection connection) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("SELECT value FROM chorus.meta WHERE key = ?")) {
            ps.setString(1, OWN_DDL_KEY);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Gsn.of(JSON.readTree(rs.getString(1)).path("gsn").asLong()) : Gsn.NONE;
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ChorusException("chorus.meta key " + OWN_DDL_KEY + " does not hold a GSN ("
                    + e.getOriginalMessage() + "): delete that row", e);
        }
    }

    /** Forgets the {@link #noteOwnDdlOrdered noted} own DDL (a full transfer replaces the database and its W). */
    public static void forgetOwnDdlOrdered(Connection connection) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("DELETE FROM chorus.meta WHERE key = ?")) {
            ps.setString(1, OWN_DDL_KEY);
            ps.execute();
        }
    }

    /**
     * Refuses a database whose schema is no longer the one recorded at its watermark {@code w}: its tables were
     * changed outside the replication path (with {@code chorus.replicate_ddl = off}, or while replication was
     * stopped), so the group's changesets would not mean the same here. {@code database} names it in the message.
     *
     * @throws ChorusException naming every difference ("missing here: column ...", "only here: column ...", at most
     *                         {@value SchemaFingerprint#MAX_LISTED}) and the fixes
     */
    public static void requireUnchanged(Connection connection, Recorded recorded, Gsn w, String database) {
        List<String> diff = SchemaFingerprint.describeDifference(SchemaFingerprint.describe(connection),
                recorded.lines());
        if (diff.isEmpty()) {
            return;
        }
        List<String> listed = diff.subList(0, Math.min(SchemaFingerprint.MAX_LISTED, diff.size()));
        throw new ChorusException("the schema of database " + database + " differs from the group's at its watermark W="
                + w + " (as it was after GSN " + recorded.gsn() + ") in " + diff.size() + " place(s): "
                + String.join("; ", listed) + (diff.size() > listed.size() ? "; ..." : "")
                + ". It was changed outside replication (with chorus.replicate_ddl = off, or while the sidecar was "
                + "stopped). Fix: undo those changes here in a session with SET chorus.replicate_ddl = off (compare "
                + "chorus.schema_description() with another node's); the sidecar checks again by itself and rejoins");
    }
}
