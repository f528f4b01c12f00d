package io.chorus.changeset;

import java.util.Arrays;
import java.util.Objects;

/**
 * The column values of one row, in text form, in the relation's column order. A column is in one of three states that
 * are never confused: SQL NULL, unchanged TOAST (the server did not send the value because the statement did not
 * change it — not NULL and not a value), or a text value. Immutable.
 */
public final class Tuple {
    public enum State { NULL, UNCHANGED, TEXT }

    private static final byte NULL = 'n';
    private static final byte UNCHANGED = 'u';
    private static final byte TEXT = 't';

    private final byte[] states;
    private final String[] texts;

    private Tuple(byte[] states, String[] texts) {
        this.states = states;
        this.texts = texts;
    }

    public int size() {
        return states.length;
    }

    public State state(int column) {
        return switch (states[column]) {
            case NULL -> State.NULL;
            case UNCHANGED -> State.UNCHANGED;
            default -> State.TEXT;
        };
    }

    public boolean isNull(int column) {
        return states[column] == NULL;
    }

    public boolean isUnchanged(int column) {
        return states[column] == UNCHANGED;
    }

    /** The text value, or null for NULL and for unchanged TOAST (check {@link #state(int)} to tell them apart). */
    public String text(int column) {
        return texts[column];
    }

    public boolean hasUnchanged() {
        for (byte s : states) {
            if (s == UNCHANGED) {
                return true;
            }
        }
        return false;
    }

    public static Builder builder(int size) {
        return new Builder(size);
    }

    /** Convenience for tests and generated rows: nulls in {@code values} become SQL NULL. */
    public static Tuple ofTexts(String... values) {
        Builder b = builder(values.length);
        for (int i = 0; i < values.length; i++) {
            if (values[i] == null) {
                b.setNull(i);
            } else {
                b.setText(i, values[i]);
            }
        }
        return b.build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tuple t && Arrays.equals(states, t.states) && Arrays.equals(texts, t.texts);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(states) + Arrays.hashCode(texts);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < states.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            switch (state(i)) {
                case NULL -> sb.append("NULL");
                case UNCHANGED -> sb.append("<unchanged-toast>");
                case TEXT -> sb.append('\'').append(texts[i].length() > 64 ? texts[i].substring(0, 61) + "..." : texts[i]).append('\'');
            }
        }
        return sb.append(')').toString();
    }

    /** Fills a tuple column by column; every column must be set exactly once before {@link #build()}. */
    public static final class Builder {
        private final byte[] states;
        private final String[] texts;

        private Builder(int size) {
            states = new byte[size];
            texts = new String[size];
        }

        public Builder setNull(int column) {
            states[column] = NULL;
            return this;
        }

        public Builder setUnchanged(int column) {
            states[column] = UNCHANGED;
            return this;
        }

        public Builder setText(int column, String text) {
            states[column] = TEXT;
            texts[column] = Objects.requireNonNull(text, "text");
            return this;
        }

        public Tuple build() {
            for (int i = 0; i < states.length; i++) {
                if (states[i] == 0) {
                    throw new IllegalStateException("column " + i + " of " + states.length + " was never set");
                }
            }
            return new Tuple(states.clone(), texts.clone());
        }
    }
}
