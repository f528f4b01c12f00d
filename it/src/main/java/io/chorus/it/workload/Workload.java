package io.chorus.it.workload;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A seeded workload over its own tables. The {@link WorkloadRunner} calls {@link #transaction} on many writer threads
 * at once (implementations keep shared state thread-safe), commits, and reports the outcome of each acknowledgement
 * token: {@link #committed} after a successful commit, {@link #inDoubt} when the connection broke during the commit.
 */
public interface Workload {

    /**
     * Who is writing: the run (one per {@link WorkloadRunner#start}, so runs on one cluster do not collide), node
     * number (1-based), cluster size, writer index on that node, transaction number.
     */
    record Writer(int run, int node, int nodes, int index, long sequence) {
        /** A cluster-wide unique number for this transaction, unique across runs too. */
        public long uniqueId() {
            return ((((long) run << 20) + sequence) * 64 + index) * 8 * 8 + node;
        }
    }

    String name();

    /** DDL and identical seed rows, run on every node before replication is enabled. */
    String schema();

    /** The statements of one transaction on {@code c} (auto-commit off; the runner commits). Returns a token or null. */
    Object transaction(Connection c, Random rnd, Writer writer) throws SQLException;

    /** The transaction that returned {@code token} committed (acknowledged to the client). */
    default void committed(Object token) {
    }

    /** The connection broke while the transaction that returned {@code token} committed: it may or may not exist. */
    default void inDoubt(Object token) {
    }

    /** The workload's invariants on quiesced, converged nodes; each entry is one violation, described for a person. */
    List<String> verify(Map<String, Connection> nodes) throws SQLException;
}
