package io.chorus.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.changeset.Change;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Key;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.RelationName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One DDL statement as the event trigger of the SQL surface (chorus-2.sql, section "ddl") emits it: a transactional
 * logical message with prefix {@value #PREFIX} whose content is JSON
 * {@code {"v":1,"sql":...,"search_path":...,"role":...,"tag":...,"relations":[[schema,table],...],"keyed":...}},
 * plus {@code "renamed":[[old schema, old table],[new schema, new table]]} and {@code "dropped":[[schema,table],...]}
 * when the statement renamed or dropped tables, {@code "columns_renamed":[[schema, table, old name, new name],...]}
 * when it renamed columns (chorus-4.sql), and {@code "intent"} when the statement was ordered before it ran (the token
 * of its DDL intent, see {@code chorus._ddl_order_start} in chorus-3.sql).
 *
 * <p>{@code sql} is absent on the later events of a query string already emitted (several DDL commands in one string):
 * such a message only names more relations. {@code relations} are the tables the DDL created, changed or dropped, old
 * and new names of a rename. When {@code keyed}, certification gives the DDL a TABLE key on each; a DDL statement
 * that changes written against the old definition still apply after (ADD/DROP COLUMN, a type change without USING, a
 * non-unique index...) is not keyed.
 *
 * <p>Immutable value; thread-safe.
 *
 * @param sql        the statement(s) to run on the other nodes, empty for a relations-only message
 * @param searchPath the origin session's search_path when the DDL ran
 * @param role       the role the DDL ran as (current_user)
 * @param tag        the command tag (e.g. {@code ALTER TABLE})
 * @param keyed      concurrent changes to the relations that did not see the DDL must lose to it
 * @param renamed    the old and the new name of a table it renamed or moved to another schema (empty: none); a
 *                   change ordered before the DDL but applied at its origin after it is applied under the new name
 * @param dropped    the tables it dropped; a change ordered before the DDL but applied at its origin after it has
 *                   nothing left to change there (the other nodes drop its rows with the table)
 * @param renamedColumns the columns it renamed, the table under its name after the statement; a change ordered
 *                   before the DDL but applied at its origin after it is applied under the new column names
 */
public record DdlMessage(Optional<String> sql, String searchPath, String role, String tag,
                         List<RelationName> relations, boolean keyed, List<RelationName> renamed,
                         List<RelationName> dropped, Optional<String> intent, List<ColumnRename> renamedColumns) {
    /** Column {@code from} of {@code table} is now called {@code to}. */
    public record ColumnRename(RelationName table, String from, String to) {
        public ColumnRename {
            Objects.requireNonNull(table, "table");
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
        }
    }

    /** The prefix of DDL messages. */
    public static final String PREFIX = "chorus_ddl";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** CONCURRENTLY after the keyword that allows it: the forms that cannot run inside a transaction block. */
    private static final Pattern CONCURRENTLY = Pattern.compile(
            "^(\\s*(?:create\\s+(?:unique\\s+)?index|drop\\s+index|reindex\\s+(?:\\([^)]*\\)\\s*)?(?:index|table|schema|database|system)))"
                    + "\\s+concurrently\\b", Pattern.CASE_INSENSITIVE);

    public DdlMessage {
        Objects.requireNonNull(sql, "sql");
        Objects.requireNonNull(searchPath, "searchPath");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(tag, "tag");
        relations = List.copyOf(relations);
        renamed = List.copyOf(renamed);
        dropped = List.copyOf(dropped);
        Objects.requireNonNull(intent, "intent");
        renamedColumns = List.copyOf(renamedColumns);
        if (!renamed.isEmpty() && renamed.size() != 2) {
            throw new IllegalArgumentException("renamed must hold the old and the new name, got " + renamed);
        }
    }

    /** A statement that was not ordered under an intent. */
    public DdlMessage(Optional<String> sql, String searchPath, String role, String tag, List<RelationName> relations,
                      boolean keyed, List<RelationName> renamed, List<RelationName> dropped) {
        this(sql, searchPath, role, tag, relations, keyed, renamed, dropped, Optional.empty(), List.of());
    }

    /** A statement that renamed and dropped no table. */
    public DdlMessage(Optional<String> sql, String searchPath, String role, String tag, List<RelationName> relations,
                      boolean keyed) {
        this(sql, searchPath, role, tag, relations, keyed, List.of(), List.of());
    }

    /** Whether {@code change} is a DDL message. */
    public static boolean isDdl(Change change) {
        return change instanceof MessageChange m && PREFIX.equals(m.prefix());
    }

    /**
     * Decodes a DDL message.
     *
     * @throws ChorusException when the content is not a version-1 DDL message (the origin runs another Chorus version)
     */
    public static DdlMessage of(MessageChange m) {
        if (!PREFIX.equals(m.prefix())) {
            throw new IllegalArgumentException("not a DDL message: prefix " + m.prefix());
        }
        String text = new String(m.content(), StandardCharsets.UTF_8);
        try {
            JsonNode n = JSON.readTree(text);
            if (n == null || n.path("v").asInt() != 1) {
                throw malformed(text, "version " + (n == null ? "none" : n.path("v").asText()) + ", expected 1", null);
            }
            JsonNode sql = n.path("sql");
            return new DdlMessage(sql.isTextual() ? Optional.of(sql.asText()) : Optional.empty(),
                    n.path("search_path").asText(), n.path("role").asText(), n.path("tag").asText(),
                    names(n.path("relations")), n.path("keyed").asBoolean(true), names(n.path("renamed")),
                    names(n.path("dropped")), n.path("intent").isTextual() ? Optional.of(n.path("intent").asText())
                    : Optional.empty(), columnRenames(n.path("columns_renamed")));
        } catch (IOException | RuntimeException e) {
            if (e instanceof ChorusException ce) {
                throw ce;
            }
            throw malformed(text, e.getMessage(), e);
        }
    }

    /** [[schema, table], ...]; a missing field is an empty list (messages of earlier versions lack the optional ones). */
    private static List<RelationName> names(JsonNode array) {
        List<RelationName> out = new ArrayList<>();
        for (JsonNode r : array) {
            out.add(RelationName.of(r.get(0).asText(), r.get(1).asText()));
        }
        return out;
    }

    /** [[schema, table, old, new], ...]; missing: none. */
    private static List<ColumnRename> columnRenames(JsonNode array) {
        List<ColumnRename> out = new ArrayList<>();
        for (JsonNode r : array) {
            out.add(new ColumnRename(RelationName.of(r.get(0).asText(), r.get(1).asText()), r.get(2).asText(),
                    r.get(3).asText()));
        }
        return out;
    }

    private static ChorusException malformed(String text, String why, Throwable cause) {
        return new ChorusException("malformed " + PREFIX + " message (" + why + "): "
                + text.substring(0, Math.min(200, text.length())) + "; every node of a group must run the same Chorus "
                + "version", cause);
    }

    /**
     * One TABLE key per relation when keyed (concurrent changes to these tables that did not see the DDL lose to it),
     * else none.
     */
    public List<Key> tableKeys() {
        if (!keyed) {
            return List.of();
        }
        List<Key> keys = new ArrayList<>(relations.size());
        for (RelationName r : relations) {
            keys.add(Key.table(r));
        }
        return keys;
    }

    /**
     * The statement as a helper runs it, inside its apply transaction: CONCURRENTLY is dropped from CREATE INDEX,
     * DROP INDEX and REINDEX (which cannot run in a transaction block). The origin built the index without blocking
     * writes; the other nodes build it inside the DDL's barrier, where the applier writes nothing else anyway.
     */
    public Optional<String> statementForTransaction() {
        return sql.map(s -> {
            Matcher m = CONCURRENTLY.matcher(s);
            return m.find() ? m.replaceFirst("$1") : s;
        });
    }
}
