package io.chorus.changeset;

import java.util.regex.Pattern;

/**
 * The stable name of a node: 1 to 32 characters of lower-case letters, digits, '_' and '-', starting with a letter.
 * Created once per node and kept; part of every GTID.
 */
public record NodeId(String value) implements Comparable<NodeId> {
    private static final Pattern VALID = Pattern.compile("[a-z][a-z0-9_-]{0,31}");

    public NodeId {
        if (value == null || !VALID.matcher(value).matches()) {
            throw new IllegalArgumentException("invalid node id '" + value
                    + "': use 1-32 characters of a-z, 0-9, '_' or '-', starting with a letter (e.g. node1)");
        }
    }

    /** Every delivered changeset names its origin: one instance per node id of the group, not one per changeset. */
    private static final Canonical<NodeId> KNOWN = new Canonical<>(4096);

    public static NodeId of(String value) {
        return KNOWN.of(new NodeId(value));
    }

    @Override
    public int compareTo(NodeId o) {
        return value.compareTo(o.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
