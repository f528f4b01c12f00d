package io.chorus.schema;

import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Op;
import io.chorus.changeset.pgoutput.PgOutputMessage;
import io.chorus.changeset.pgoutput.PgOutputParser;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Row changes exactly as pgoutput sends them: a publication for all tables and a logical slot in the test database,
 * read with pg_logical_slot_get_binary_changes and parsed by the production parser. Not thread-safe.
 */
final class SlotRows implements AutoCloseable {
    private final Connection connection;
    private final String slot;
    private final Map<Integer, Relation> relations = new HashMap<>();
    private final PgOutputParser parser = new PgOutputParser(1);

    SlotRows(Connection connection, String slot) throws SQLException {
        this.connection = connection;
        this.slot = slot;
        try (Statement st = connection.createStatement()) {
            st.execute("CREATE PUBLICATION " + slot + " FOR ALL TABLES");
            st.execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        }
    }

    /** The row changes committed since the last call, in commit order. */
    List<RowChange> take() throws SQLException {
        List<RowChange> rows = new ArrayList<>();
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT data FROM pg_logical_slot_get_binary_changes('" + slot + "', NULL, NULL,"
                        + " 'proto_version', '1', 'publication_names', '" + slot + "')")) {
            while (rs.next()) {
                RowChange rc = toRowChange(parser.parse(ByteBuffer.wrap(rs.getBytes(1))));
                if (rc != null) {
                    rows.add(rc);
                }
            }
        }
        return rows;
    }

    /** The single row change the statement produced. */
    RowChange one(String sql) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute(sql);
        }
        List<RowChange> rows = take();
        if (rows.size() != 1) {
            throw new AssertionError("expected one row change from " + sql + ", got " + rows);
        }
        return rows.get(0);
    }

    private RowChange toRowChange(PgOutputMessage m) {
        if (m instanceof PgOutputMessage.RelationMessage r) {
            relations.put(r.oid(), new Relation(RelationName.of(r.namespace(), r.name()), r.replicaIdentity(), r.columns()));
        } else if (m instanceof PgOutputMessage.Insert i) {
            return new RowChange(relations.get(i.relationOid()), Op.INSERT, i.newTuple(), null, false, List.of());
        } else if (m instanceof PgOutputMessage.Update u) {
            return new RowChange(relations.get(u.relationOid()), Op.UPDATE, u.newTuple(), u.oldTuple(),
                    u.oldKind() == PgOutputMessage.OldTupleKind.KEY, List.of());
        } else if (m instanceof PgOutputMessage.Delete d) {
            return new RowChange(relations.get(d.relationOid()), Op.DELETE, null, d.oldTuple(),
                    d.oldKind() == PgOutputMessage.OldTupleKind.KEY, List.of());
        }
        return null;
    }

    @Override
    public void close() throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute("SELECT pg_drop_replication_slot('" + slot + "')");
        }
    }
}
