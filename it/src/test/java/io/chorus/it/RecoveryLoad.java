package io.chorus.it;

import io.chorus.it.workload.Workload;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A workload at a steady pace for the recovery suites: each writer runs one transaction of the wrapped workload every
 * {@code periodMillis} at most. Recovery is measured under a load the cluster sustains; an unthrottled writer commits
 * locally far faster than the group orders, and the test would measure that backlog instead. Thread-safe as the
 * wrapped workload is.
 */
final class RecoveryLoad implements Workload {
    private final Workload inner;
    private final long periodNanos;

    RecoveryLoad(Workload inner, long periodMillis) {
        this.inner = inner;
        this.periodNanos = TimeUnit.MILLISECONDS.toNanos(periodMillis);
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public String schema() {
        return inner.schema();
    }

    @Override
    public Object transaction(Connection c, Random rnd, Writer writer) throws SQLException {
        LockSupport.parkNanos(periodNanos); // pacing a steady writer, not a wait for a condition
        return inner.transaction(c, rnd, writer);
    }

    @Override
    public void committed(Object token) {
        inner.committed(token);
    }

    @Override
    public void inDoubt(Object token) {
        inner.inDoubt(token);
    }

    @Override
    public List<String> verify(Map<String, Connection> nodes) throws SQLException {
        return inner.verify(nodes);
    }
}
