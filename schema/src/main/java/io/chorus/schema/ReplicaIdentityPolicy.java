package io.chorus.schema;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.RelationName;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a database's tables certifiable when replication is enabled (DESIGN §3 "Keys", §6).
 *
 * <p>Every user table (outside schemas chorus, pg_catalog and information_schema) must have a key: a primary key, or
 * a replica identity index. REPLICA IDENTITY FULL is <em>not</em> accepted as a key: a row would then be identified
 * by all of its values, so every change to the table would clash with every other and duplicate rows could not be
 * told apart by a helper. Tables without a key are refused, all of them in one error naming each one and its fix.
 *
 * <p>Certification needs old rows for unique indexes and foreign keys (release keys, DELETE unique keys), and the
 * eager rollback at a loser's origin (R3) needs the group's version of every row a local change touches — the old
 * row, with its TOASTed values (an UPDATE that leaves a large column alone does not send it otherwise). So every table
 * with a primary key gets REPLICA IDENTITY FULL; its identity stays its primary key. The cost: each UPDATE and
 * DELETE writes the whole old row to WAL. A table whose only key is a replica identity index keeps it when it has no
 * unique index or foreign key (a rollback that needs an old value it never received then stops the node with the
 * fix), and is refused when it needs FULL (FULL would give that key up): give it a primary key, e.g.
 * {@code ADD PRIMARY KEY USING INDEX}.
 *
 * <p>Stateless and thread-safe; blocks on the connection.
 */
public final class ReplicaIdentityPolicy {
    private static final Logger LOG = LogManager.getLogger(ReplicaIdentityPolicy.class);
    private static final String LOCK_TIMEOUT = "30s";

    private ReplicaIdentityPolicy() {
    }

    /**
     * Checks every user table and sets REPLICA IDENTITY FULL where certification needs old rows. Checks everything
     * before changing anything. Runs in its own transaction when the connection auto-commits, else in the caller's.
     *
     * @return the tables whose replica identity was changed, in name order
     * @throws ChorusException naming every table without a usable key, and the fix; or when an ALTER fails
     */
    public static List<RelationName> prepare(Connection connection) {
        List<CatalogReader.Loaded> tables = CatalogReader.userTables(connection);
        List<String> problems = new ArrayList<>();
        List<CatalogReader.Loaded> toChange = new ArrayList<>();
        for (CatalogReader.Loaded t : tables) {
            String problem = problem(t);
            if (problem != null) {
                problems.add(problem);
            } else if ((t.info().needsFullIdentity() || t.hasPrimaryKey()) && t.info().replicaIdentity() != 'f') {
                toChange.add(t);
            }
            if (!t.uncertifiableUniqueIndexes().isEmpty()) {
                LOG.warn("unique indexes {} of table {} are partial or on expressions: Chorus cannot certify them, so"
                        + " concurrent writes that collide on them stop the applier; prefer plain unique indexes",
                        t.uncertifiableUniqueIndexes(), t.info().name());
            }
        }
        if (!problems.isEmpty()) {
            throw new ChorusException(problems.size() + " table(s) cannot be replicated because they have no usable key"
                    + " (a primary key or a replica identity index; REPLICA IDENTITY FULL is not a key):\n  - "
                    + String.join("\n  - ", problems) + "\nfix each table as shown, then enable replication again");
        }
        alter(connection, toChange);
        return toChange.stream().map(t -> t.info().name()).toList();
    }

    /** See {@link SchemaFingerprint#fingerprint(Connection)}. */
    public static String fingerprint(Connection connection) {
        return SchemaFingerprint.fingerprint(connection);
    }

    private static String problem(CatalogReader.Loaded t) {
        TableInfo info = t.info();
        String table = info.name().quoted();
        if (info.replicaIdentity() == 'n') {
            return info.name() + ": REPLICA IDENTITY NOTHING; fix: ALTER TABLE " + table + " REPLICA IDENTITY DEFAULT"
                    + (t.hasPrimaryKey() ? "" : " after adding a primary key");
        }
        if (!info.hasIdentity()) {
            return info.name() + ": no primary key" + (info.replicaIdentity() == 'f' ? " (REPLICA IDENTITY FULL)" : "")
                    + "; fix: ALTER TABLE " + table + " ADD PRIMARY KEY (...)";
        }
        if (info.needsFullIdentity() && !t.hasPrimaryKey()) {
            return info.name() + ": its key is a replica identity index, but its unique indexes or foreign keys need"
                    + " REPLICA IDENTITY FULL, which replaces that index; fix: ALTER TABLE " + table
                    + " ADD PRIMARY KEY USING INDEX <its replica identity index>";
        }
        return null;
    }

    private static void alter(Connection connection, List<CatalogReader.Loaded> tables) {
        if (tables.isEmpty()) {
            return;
        }
        RelationName current = null;
        try {
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false);
            try (Statement st = connection.createStatement()) {
                st.execute("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT + "'");
                for (CatalogReader.Loaded t : tables) {
                    current = t.info().name();
                    st.execute("ALTER TABLE " + current.quoted() + " REPLICA IDENTITY FULL");
                }
                if (autoCommit) {
                    connection.commit();
                }
            } catch (SQLException e) {
                if (autoCommit) {
                    connection.rollback();
                }
                throw e;
            } finally {
                connection.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw alterFailed(current, e);
        }
        for (CatalogReader.Loaded t : tables) {
            LOG.info("set REPLICA IDENTITY FULL on {} (was '{}') because {}: each UPDATE and DELETE of it now writes"
                    + " the whole old row to WAL", t.info().name(), t.info().replicaIdentity(), reason(t.info()));
        }
    }

    private static String reason(TableInfo info) {
        List<String> why = new ArrayList<>();
        info.uniqueIndexes().forEach(u -> why.add("unique index " + u.name()));
        info.foreignKeys().forEach(f -> why.add("foreign key " + f.name()));
        if (info.referencedByForeignKey()) {
            why.add("foreign keys reference it");
        }
        return String.join(", ", why);
    }

    private static ChorusException alterFailed(RelationName table, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String fix = switch (state) {
            case "55P03" -> "the table is locked by another session (waited " + LOCK_TIMEOUT
                    + "); retry when its long transactions are done";
            case "42501" -> "only the table's owner may change its replica identity; enable replication as the owner"
                    + " or a superuser";
            default -> "nothing was changed; fix the cause and enable replication again";
        };
        return new ChorusException("cannot set REPLICA IDENTITY FULL on table " + table + ": " + e.getMessage()
                + " (SQLState " + state + "): " + fix, e, state.equals("55P03") || state.startsWith("08"));
    }
}
