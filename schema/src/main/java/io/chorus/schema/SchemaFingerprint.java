package io.chorus.schema;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.RelationName;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A canonical description of a database's user tables and its SHA-256, to tell whether two nodes have the same
 * schema (DESIGN §6). The description is one self-contained line per fact, sorted: tables, columns in order with
 * type and nullability, the key, unique indexes and foreign keys, so two descriptions can be diffed line by line.
 * Replica identity settings and the name of the primary key constraint are left out: they do not change what rows
 * mean. Stateless and thread-safe; blocks on the connection.
 */
public final class SchemaFingerprint {
    private SchemaFingerprint() {
    }

    /** The sorted description lines of every user table. */
    public static List<String> describe(Connection connection) {
        List<String> lines = new ArrayList<>();
        for (CatalogReader.Loaded t : CatalogReader.userTables(connection)) {
            TableInfo info = t.info();
            String table = info.name().quoted();
            lines.add("table " + table);
            int position = 0;
            for (CatalogReader.ColumnDef c : CatalogReader.columns(connection, t.oid())) {
                lines.add(String.format("column %s #%d %s %s%s", table, ++position,
                        RelationName.quoteIdent(c.name()), c.type(), c.notNull() ? " NOT NULL" : ""));
            }
            lines.add("key " + table + " " + info.identityColumns());
            info.uniqueIndexes().forEach(u -> lines.add("unique " + table + " " + u.name() + " " + u.columns()
                    + (u.nullsNotDistinct() ? " NULLS NOT DISTINCT" : "")));
            t.uncertifiableUniqueIndexes().forEach(u -> lines.add("unique (partial or expression) " + table + " " + u));
            info.foreignKeys().forEach(f -> lines.add("foreign key " + table + " " + f.name() + " " + f.columns()
                    + " -> " + f.parent().quoted() + " " + f.parentIndex() + " " + f.parentColumns()));
        }
        lines.sort(null);
        return lines;
    }

    /** SHA-256 (hex) of the description lines joined by newlines. */
    public static String fingerprint(Connection connection) {
        return sha256(String.join("\n", describe(connection)));
    }

    /**
     * What differs between two descriptions, for an error message: "missing here: ..." for lines only in
     * {@code theirs}, "only here: ..." for lines only in {@code mine}. Empty when they are equal.
     */
    public static List<String> describeDifference(List<String> mine, List<String> theirs) {
        Set<String> here = new LinkedHashSet<>(mine);
        Set<String> there = new LinkedHashSet<>(theirs);
        List<String> diff = new ArrayList<>();
        theirs.stream().filter(l -> !here.contains(l)).forEach(l -> diff.add("missing here: " + l));
        mine.stream().filter(l -> !there.contains(l)).forEach(l -> diff.add("only here: " + l));
        return diff;
    }

    /**
     * Refuses a node whose schema differs from the group's: {@code here} is the node's database, {@code group} a
     * member's at the same point of the group's order (a donor inside its exported snapshot), described as
     * {@code groupName} in the message. Blocking.
     *
     * @throws ChorusException naming every difference ("missing here: column ...", "only here: unique ...", at most
     *                         {@value #MAX_LISTED} of them) and the fix
     */
    public static void requireSame(Connection here, Connection group, String groupName) {
        List<String> diff = describeDifference(describe(here), describe(group));
        if (diff.isEmpty()) {
            return;
        }
        List<String> listed = diff.subList(0, Math.min(MAX_LISTED, diff.size()));
        throw new ChorusException("the schema of this database differs from " + groupName + " in " + diff.size()
                + " place(s): " + String.join("; ", listed) + (diff.size() > listed.size() ? "; ..." : "")
                + ". Fix: make this database's tables match (with SET chorus.replicate_ddl = off), or drop the "
                + "differing tables here so that the transfer creates them from the group's definitions, then enable "
                + "replication again");
    }

    /**
     * Records the fingerprint and its description in {@code chorus.meta} (key {@value #META_KEY}, JSON
     * {@code {"sha256":...,"lines":[...]}}), where {@code chorus.schema_fingerprint()} shows it. Commits when the
     * connection is in auto-commit mode. Blocking.
     *
     * @return the fingerprint recorded
     */
    public static String record(Connection connection) throws SQLException {
        List<String> lines = describe(connection);
        String sha = sha256(String.join("\n", lines));
        store(connection, META_KEY, JSON.createObjectNode().put("sha256", sha), lines);
        return sha;
    }

    /** Upserts {@code json} with {@code lines} as its "lines" array into {@code chorus.meta} under {@code key}. */
    static void store(Connection connection, String key, ObjectNode json, List<String> lines) throws SQLException {
        lines.forEach(json.putArray("lines")::add);
        try (PreparedStatement ps = connection.prepareStatement("INSERT INTO chorus.meta (key, value) "
                + "VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")) {
            ps.setString(1, key);
            ps.setString(2, json.toString());
            ps.execute();
        }
    }

    /** The {@code chorus.meta} key of the recorded fingerprint. */
    public static final String META_KEY = "schema_fingerprint";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How many differences {@link #requireSame} names. */
    static final int MAX_LISTED = 20;

    static String sha256(String text) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new ChorusException("SHA-256 is not available in this JVM: use a standard Java 17 runtime", e);
        }
    }
}
