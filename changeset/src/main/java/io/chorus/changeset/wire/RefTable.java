package io.chorus.changeset.wire;

import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Per-frame table of values written in full once and referenced by a small int afterwards. On the wire a reference
 * is a varint: 0 means "a new definition follows" (it gets the next id), n &gt; 0 means the value with id n - 1.
 * Not thread-safe: one table per pooled codec session, cleared for every frame.
 */
final class RefTable<T> {
    private final String what;
    private final Map<T, Integer> ids = new HashMap<>();
    /** Decoders hand the same instance again and again: an identity hit avoids hashing a whole relation. */
    private final Map<T, Integer> sameInstance = new IdentityHashMap<>();
    private final List<T> values = new ArrayList<>();

    RefTable(String what) {
        this.what = what;
    }

    void clear() {
        ids.clear();
        sameInstance.clear();
        values.clear();
    }

    void write(Output out, T value, BiConsumer<Output, T> definition) {
        Integer id = sameInstance.get(value);
        if (id == null) {
            id = ids.get(value);
            if (id != null) {
                sameInstance.put(value, id);
            }
        }
        if (id != null) {
            out.writeVarInt(id + 1, true);
            return;
        }
        out.writeVarInt(0, true);
        definition.accept(out, value);
        id = ids.size();
        ids.put(value, id);
        sameInstance.put(value, id);
    }

    T read(Input in, Function<Input, T> definition) {
        int ref = in.readVarInt(true);
        if (ref == 0) {
            T value = definition.apply(in);
            values.add(value);
            return value;
        }
        if (ref < 0 || ref > values.size()) {
            throw new IllegalArgumentException(what + " reference " + ref + " but only " + values.size()
                    + " " + what + " definitions precede it in this frame");
        }
        return values.get(ref - 1);
    }
}
