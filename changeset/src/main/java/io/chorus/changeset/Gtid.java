package io.chorus.changeset;

import java.util.Objects;

/** A changeset's identity: the origin node and the LSN of its commit record there. Used to drop duplicates. */
public record Gtid(NodeId origin, Lsn commitLsn) {
    public Gtid {
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(commitLsn, "commitLsn");
    }

    @Override
    public String toString() {
        return origin + ":" + commitLsn;
    }
}
