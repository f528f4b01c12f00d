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
