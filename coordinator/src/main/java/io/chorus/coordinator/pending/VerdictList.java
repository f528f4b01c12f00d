package io.chorus.coordinator.pending;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.coordinator.certify.Verdict;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** {@link ReplayedVerdicts} over a list in memory. */
final class VerdictList implements ReplayedVerdicts {
    private final NodeId self;
    private final List<Verdict> verdicts;
    private final List<Verdict> own = new ArrayList<>();

    VerdictList(NodeId self, List<Verdict> verdicts) {
        this.self = self;
        this.verdicts = verdicts;
        for (Verdict v : verdicts) {
            if (v.changeSet().origin().equals(self)) {
                own.add(v);
            }
        }
    }

    @Override
    public boolean isEmpty() {
        return verdicts.isEmpty();
    }

    @Override
    public Gsn last() {
        return verdicts.get(verdicts.size() - 1).gsn();
    }

    @Override
    public int ownCount() {
        return own.size();
    }

    @Override
    public Gsn ownGsn(int i) {
        return own.get(i).gsn();
    }

    @Override
    public Gsn ownDeps(int i) {
        return own.get(i).changeSet().deps();
    }

    @Override
    public Cursor after(Gsn after, boolean ownOnly) {
        Iterator<Verdict> it = (ownOnly ? own : verdicts).stream().filter(v -> v.gsn().isAfter(after)).iterator();
        return new Cursor() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Verdict next() {
                return it.next();
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public String toString() {
        return verdicts.size() + " verdicts replayed, " + own.size() + " of " + self;
    }
}
