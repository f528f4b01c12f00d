package io.chorus.changeset.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state of one pooled codec session: its Kryo instance, the per-frame tables (relation names, the relation
 * versions referenced so far, the definitions the frame carries) and a cursor saying what is being read, for error
 * messages. Not thread-safe; owned by one thread between pool obtain and free.
 */
final class WireContext {
    final Kryo kryo;
    final RefTable<RelationName> names = new RefTable<>("relation name");
    /** The relation versions this frame referenced so far, in order: a later reference is their index. */
    final List<Relation> frameRelations = new ArrayList<>();
    /** Encoding: index in {@link #frameRelations} by relation (the same instance usually comes again). */
    final Map<Relation, Integer> frameIndex = new HashMap<>();
    final Map<Relation, Integer> frameInstance = new IdentityHashMap<>();
    /** Encoding: the definitions this frame must carry (the catalog lacks them), in first-use order. */
    final Map<Long, byte[]> carried = new LinkedHashMap<>();
    /** Decoding: the definitions the frame carries. */
    final Map<Long, byte[]> section = new HashMap<>();
    /** Where ids the frame does not define resolve: the group's committed versions. */
    RelationCatalog catalog = RelationCatalog.NONE;
    /** The codec's caches of versions, shared by its contexts. */
    final WireCodec.Versions versions;
    private int changeSet = -1;
    private int change = -1;
    private String part = "frame body";
    private RelationName subject;

    WireContext(Kryo kryo, WireCodec.Versions versions) {
        this.kryo = kryo;
        this.versions = versions;
    }

    void startFrame(RelationCatalog resolver) {
        names.clear();
        frameRelations.clear();
        frameIndex.clear();
        frameInstance.clear();
        carried.clear();
        section.clear();
        catalog = resolver;
        changeSet = -1;
        change = -1;
        part = "frame body";
        subject = null;
    }

    void at(int changeSetIndex, int changeIndex, String what) {
        changeSet = changeSetIndex;
        change = changeIndex;
        part = what;
        subject = null;
    }

    void part(String what) {
        part(what, null);
    }

    /** Notes what is being read, and of which relation; cheap: the description is built only on error. */
    void part(String what, RelationName relation) {
        part = what;
        subject = relation;
    }

    int changeSet() {
        return changeSet;
    }

    String describe() {
        StringBuilder sb = new StringBuilder(part);
        if (subject != null) {
            sb.append(" of ").append(subject);
        }
        if (change >= 0) {
            sb.append(" of change #").append(change);
        }
        if (changeSet >= 0) {
            sb.append(" of changeset #").append(changeSet);
        }
        return sb.toString();
    }

    /** Reads a collection count and checks it against the bytes left: every element takes at least one byte. */
    static int readCount(Input in, String what) {
        int count = in.readVarInt(true);
        int left = in.limit() - in.position();
        if (count < 0 || count > left) {
            throw new IllegalArgumentException(what + " count " + count + " exceeds the " + left + " bytes left");
        }
        return count;
    }

    /**
     * Writes a non-null string as its UTF-8 byte length and bytes. A string with an unpaired surrogate has no exact
     * UTF-8 form and is refused rather than altered (PostgreSQL text never holds one).
     */
    static void writeText(Output out, String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        // a lone surrogate becomes one '?' byte, so an all-ASCII-looking result is checked when it holds a '?'
        if (utf8.length != s.length() || hasQuestionMark(utf8)) {
            checkSurrogates(s);
        }
        out.writeVarInt(utf8.length, true);
        out.writeBytes(utf8);
    }

    /** Reads a string written by {@link #writeText}; {@code in} must be backed by a byte array. */
    static String readText(Input in, String what) {
        int length = readCount(in, what + " byte");
        String s = new String(in.getBuffer(), in.position(), length, StandardCharsets.UTF_8);
        in.setPosition(in.position() + length);
        return s;
    }

    private static boolean hasQuestionMark(byte[] utf8) {
        for (byte b : utf8) {
            if (b == '?') {
                return true;
            }
        }
        return false;
    }

    private static void checkSurrogates(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException("text has an unpaired UTF-16 surrogate at char " + i
                        + " and cannot be encoded exactly: " + s.substring(0, Math.min(i, 40)) + "...");
            }
        }
    }
}
