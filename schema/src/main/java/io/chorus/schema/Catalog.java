package io.chorus.schema;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.RelationName;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Cached catalog facts about tables, read through one JDBC connection. A table is read on first use and kept until
 * {@link #invalidate()} (after DDL, or when the decoder sees a changed relation).
 *
 * <p>Thread-safe: calls are serialized on this object because the connection is not thread-safe. A cache miss blocks
 * on catalog queries; a hit does not touch the connection. The caller owns the connection and closes it.
 */
public final class Catalog {
    private static final Logger LOG = LogManager.getLogger(Catalog.class);

    private final Connection connection;
    private final Map<RelationName, TableInfo> cache = new HashMap<>();

    public Catalog(Connection connection) {
        this.connection = Objects.requireNonNull(connection, "connection");
    }

    /**
     * The table's keys, unique indexes and foreign keys.
     *
     * @throws ChorusException when no ordinary, permanent table has that name, or the catalog cannot be read
     */
    public synchronized TableInfo table(RelationName name) {
        TableInfo info = cache.get(name);
        if (info == null) {
            CatalogReader.Loaded loaded = CatalogReader.table(connection, name);
            if (loaded == null) {
                throw new ChorusException("table " + name + " does not exist in database " + database()
                        + " (or is not an ordinary, permanent table): it was dropped or renamed, or this node's schema"
                        + " differs from the origin's; compare the schema fingerprints of the nodes");
            }
            info = loaded.info();
            cache.put(name, info);
            LOG.debug("loaded catalog entry {}", info);
        }
        return info;
    }

    /** Every user table (outside schemas chorus, pg_catalog, information_schema), freshly read; refills the cache. */
    public synchronized List<TableInfo> userTables() {
        List<TableInfo> tables = CatalogReader.userTables(connection).stream().map(CatalogReader.Loaded::info).toList();
        cache.clear();
        tables.forEach(t -> cache.put(t.name(), t));
        return tables;
    }

    /** Forgets every table; the next {@link #table} reads the catalog again. */
    public synchronized void invalidate() {
        LOG.debug("catalog cache cleared ({} tables)", cache.size());
        cache.clear();
    }

    /** Forgets one table. */
    public synchronized void invalidate(RelationName name) {
        cache.remove(name);
    }

    private String database() {
        try {
            return connection.getCatalog();
        } catch (SQLException e) {
            return "(unknown: " + e.getMessage() + ")";
        }
    }
}
