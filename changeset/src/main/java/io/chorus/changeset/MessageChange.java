package io.chorus.changeset;

import java.util.Arrays;
import java.util.Objects;

/** A transactional logical message (pg_logical_emit_message) in the changeset; DDL travels this way. */
public record MessageChange(String prefix, byte[] content) implements Change {
    public MessageChange {
        Objects.requireNonNull(prefix, "prefix");
        content = content.clone();
    }

    @Override
    public byte[] content() {
        return content.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MessageChange m && prefix.equals(m.prefix) && Arrays.equals(content, m.content);
    }

    @Override
    public int hashCode() {
        return prefix.hashCode() * 31 + Arrays.hashCode(content);
    }

    @Override
    public String toString() {
        return "Message[" + prefix + ", " + content.length + " bytes]";
    }
}
