package io.chorus.gcs;

import io.chorus.changeset.wire.RelationCatalog;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The catalog entries of the records a member applied: opaque definitions by id, which appenders attach to a record
 * ({@link Group#append(long, byte[], Map)}) so that later records can name them by id alone. The state machine adds
 * a record's entries before it delivers the record, so a delivered record resolves every entry committed up to it; a
 * snapshot carries the whole catalog, so a member that starts from one resolves them too.
 *
 * <p>Ids are content-addressed by the appenders: an id always names the same bytes, the first bytes learned for an id
 * are kept, and nothing is ever removed (a record encoded against the catalog may be committed long after). One
 * catalog may serve several {@link Group} instances of the same log in turn (a forced bootstrap, a rejoin): the
 * union stays correct for the same reason. Thread-safe; lookups are lock-free.
 */
public final class DefinitionCatalog implements RelationCatalog {
    private static final Logger LOG = LogManager.getLogger(DefinitionCatalog.class);
    private final Map<Long, byte[]> entries = new ConcurrentHashMap<>();

    @Override
    public byte[] definition(long id) {
        return entries.get(id);
    }

    /** How many entries this member knows. */
    public int size() {
        return entries.size();
    }

    void learn(Map<Long, byte[]> added) {
        for (Map.Entry<Long, byte[]> d : added.entrySet()) {
            byte[] known = entries.putIfAbsent(d.getKey(), d.getValue());
            if (known == null) {
                LOG.debug("catalog entry {} learned ({} bytes)", hex(d.getKey()), d.getValue().length);
            } else if (!Arrays.equals(known, d.getValue())) {
                LOG.error("catalog entry {} arrived with other bytes than the ones known; keeping the first",
                        hex(d.getKey()));
            }
        }
    }

    void writeTo(DataOutput out) throws IOException {
        Map<Long, byte[]> copy = Map.copyOf(entries);
        out.writeInt(copy.size());
        for (Map.Entry<Long, byte[]> d : copy.entrySet()) {
            out.writeLong(d.getKey());
            out.writeInt(d.getValue().length);
            out.write(d.getValue());
        }
    }

    /** Adds the entries of a snapshot written by {@link #writeTo}. */
    void readFrom(DataInput in) throws IOException {
        int count = in.readInt();
        if (count < 0) {
            throw new IOException("snapshot has a catalog of " + count + " entries");
        }
        Map<Long, byte[]> read = new HashMap<>();
        for (int i = 0; i < count; i++) {
            long id = in.readLong();
            int length = in.readInt();
            if (length < 0 || length > (1 << 24)) {
                throw new IOException("snapshot has a catalog entry of " + length + " bytes");
            }
            byte[] d = new byte[length];
            in.readFully(d);
            read.put(id, d);
        }
        learn(read);
    }

    private static String hex(long id) {
        return String.format("%016x", id);
    }
}
