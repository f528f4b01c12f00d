package io.chorus.changeset.capture;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Lsn;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Records what capture reports; optionally marks each new local changeset delivered at once. Thread-safe. */
class RecordingListener implements CaptureListener {
    record Helper(String origin, Gsn gsn, Lsn commitLsn) {
    }

    private final List<ChangeSet> all = new ArrayList<>();
    private final Map<Gtid, ChangeSet> deduped = new LinkedHashMap<>();
    private final List<Helper> helpers = new ArrayList<>();
    private final List<String> controls = new ArrayList<>();
    private volatile ChorusException failure;
    private volatile Lsn caughtUp = Lsn.INVALID;
    volatile SlotCapture deliverTo;

    @Override
    public synchronized void onLocalChangeSet(ChangeSet cs) {
        all.add(cs);
        boolean first = deduped.putIfAbsent(cs.gtid(), cs) == null;
        SlotCapture c = deliverTo;
        if (c != null && first) { // like a real consumer: a duplicate is dropped, not delivered again
            c.markDelivered(cs.gtid().commitLsn());
        }
    }

    @Override
    public synchronized void onHelperCommit(String originName, Gsn appliedGsn, Lsn commitLsn) {
        helpers.add(new Helper(originName, appliedGsn, commitLsn));
    }

    @Override
    public synchronized void onControlMessage(String prefix, byte[] content, Lsn lsn) {
        controls.add(prefix + ":" + new String(content, java.nio.charset.StandardCharsets.UTF_8) + " after " + all.size());
    }

    synchronized List<String> controls() {
        return List.copyOf(controls);
    }

    @Override
    public void onCaughtUp(Lsn walEnd) {
        caughtUp = walEnd;
    }

    @Override
    public void onFailure(ChorusException cause) {
        failure = cause;
    }

    synchronized List<ChangeSet> all() {
        return List.copyOf(all);
    }

    synchronized List<ChangeSet> deduped() {
        return List.copyOf(deduped.values());
    }

    synchronized int size() {
        return all.size();
    }

    synchronized List<Helper> helpers() {
        return List.copyOf(helpers);
    }

    ChorusException failure() {
        return failure;
    }

    Lsn caughtUp() {
        return caughtUp;
    }
}
