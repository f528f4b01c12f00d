package io.chorus.gcs;

import io.chorus.changeset.NodeId;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The line of histories of a group's log: its first history (generation 0) and one {@link Fork} per forced bootstrap
 * since, oldest first. A forced bootstrap starts a new history: it appends a history entry to the forced member's log
 * ({@code ForcedBootstrap}), which the log's state machine applies like any other entry, so every member that later
 * receives the log, or a snapshot of it, holds the same line. Members compare their lines at every join and merge
 * ({@link #refusal}): a member still in an older history that holds GSNs the group's history does not share is
 * refused. Immutable; the design is in this package's {@code package-info}.
 */
public final class History {
    /** The group's first history, before any forced bootstrap. */
    public static final History FIRST = new History(List.of());
    /** Forks kept at most (a token carries them all); a group is not forced hundreds of times. */
    static final int MAX_FORKS = 64;
    private static final UUID FIRST_ID = new UUID(0, 0);

    /**
     * One forced bootstrap.
     *
     * @param id        the history it started
     * @param by        the member it ran on
     * @param term      the log term it started
     * @param agreedGsn the last GSN the member knew committed in the old history: every member of the old history
     *                  holds the same records up to there (Raft's committed prefix), the new history too
     * @param forkGsn   the last GSN kept from the old history (the member's log, its uncommitted tail included); the
     *                  new history numbers on after it
     */
    public record Fork(UUID id, NodeId by, long term, long agreedGsn, long forkGsn) {
        public Fork {
            if (agreedGsn < 0 || forkGsn < agreedGsn) {
                throw new IllegalArgumentException("fork GSN " + forkGsn + " must be at or after agreed GSN "
                        + agreedGsn + " >= 0");
            }
        }
    }

    private final List<Fork> forks;

    History(List<Fork> forks) {
        this.forks = List.copyOf(forks);
    }

    /** The current history's id (all zeros for the first history). */
    public UUID id() {
        return forks.isEmpty() ? FIRST_ID : forks.get(forks.size() - 1).id();
    }

    /** How many forced bootstraps led to the current history (0 for the first). */
    public int generation() {
        return forks.size();
    }

    /** The forced bootstraps, oldest first. */
    public List<Fork> forks() {
        return forks;
    }

    /** The line with one more fork. */
    History then(Fork f) {
        if (forks.size() >= MAX_FORKS) {
            throw new IllegalStateException("the group's log holds " + MAX_FORKS + " forced bootstraps already");
        }
        List<Fork> more = new ArrayList<>(forks);
        more.add(f);
        return new History(more);
    }

    /** Whether {@code older}'s forks are a prefix of this line's: this history is {@code older}'s or descends from it. */
    boolean descendsFrom(History older) {
        return older.forks.size() <= forks.size() && forks.subList(0, older.forks.size()).equals(older.forks);
    }

    /**
     * The last GSN a member of {@code older} (an ancestor of this history) shares with this history: the lowest
     * agreed GSN of the forks since. Up to there both hold the same records; beyond, the older history may hold
     * GSNs this one does not have, or other records under the same numbers.
     */
    long sharedWith(History older) {
        long shared = Long.MAX_VALUE;
        for (Fork f : forks.subList(older.forks.size(), forks.size())) {
            shared = Math.min(shared, f.agreedGsn());
        }
        return shared;
    }

    /**
     * Why a member ({@code node}, holding {@code theirs} up to GSN {@code theirGsn}) may not be in one group with this
     * member ({@code self}, holding {@code mine} up to {@code myGsn}), if it may not. Allowed: the same history; or
     * one side in an older history of the other's line that holds no GSN beyond what the two share (its log and
     * database are a prefix of the newer history: the log's leader repairs its uncommitted tail, which it never
     * delivered, and the log carries it into the newer history). Refused: the older side holds GSNs beyond that, or
     * the lines diverged (forced bootstraps on both sides of a split). The message names both members, their
     * histories and GSNs, the fork and the fix.
     */
    static Optional<String> refusal(String node, History theirs, long theirGsn, String self, History mine,
                                    long myGsn) {
        return judge(node, theirs, theirGsn, self, mine, myGsn).map(Refusal::text);
    }

    /**
     * A refusal by {@link #judge}: its text, and whether the joiner ({@code node}) is the one past the fork while the
     * answering member is of the newer history. Only then may the joiner rejoin by itself with a full transfer
     * ({@link GcsException.Kind#PAST_FORK}); when the answering member is the stale one, or the lines diverged,
     * copying from the group would copy the wrong history.
     */
    record Refusal(String text, boolean joinerPastFork) {
    }

    /** {@link #refusal}, telling who is past the fork. */
    static Optional<Refusal> judge(String node, History theirs, long theirGsn, String self, History mine,
                                   long myGsn) {
        if (theirs.id().equals(mine.id()) && theirs.generation() == mine.generation()) {
            return Optional.empty();
        }
        if (mine.descendsFrom(theirs)) {
            long shared = mine.sharedWith(theirs);
            return theirGsn <= shared ? Optional.empty() : Optional.of(new Refusal(stale(node, theirs, theirGsn,
                    self, mine, shared, true), true));
        }
        if (theirs.descendsFrom(mine)) {
            long shared = theirs.sharedWith(mine);
            return myGsn <= shared ? Optional.empty() : Optional.of(new Refusal(stale(self, mine, myGsn, node,
                    theirs, shared, false), false));
        }
        return Optional.of(new Refusal("member " + node + " (" + theirs + ", last GSN " + theirGsn + ") and " + self
                + " (" + mine + ", last GSN " + myGsn + ") hold diverged histories: each side of the group was "
                + "restarted by its own forced bootstrap, and the same GSNs carry different changesets on each side. "
                + "They never join again: keep one side, stop the members of the other, empty their group data "
                + "directories and let them rejoin by a full transfer", false));
    }

    /**
     * What a member presents at join when its database may hold more than its copy of the log (the log's folder was
     * emptied or replaced): the newer of the two lines, with the GSN the data goes up to. {@code log} up to
     * {@code logGsn} is the copy of the log; {@code db} up to {@code dbGsn} what the database holds (its stored line
     * and its applied GSN). Same line: the higher GSN. One line newer: it, unless the other side holds GSNs past what
     * the two share (then the older line with its GSN, so that the group refuses the member). Diverged lines: empty
     * (the member must not join at all).
     */
    static Optional<Held> present(History log, long logGsn, History db, long dbGsn) {
        if (log.equals(db)) {
            return Optional.of(new Held(log, Math.max(logGsn, dbGsn)));
        }
        if (log.descendsFrom(db)) {
            return Optional.of(dbGsn <= log.sharedWith(db) ? new Held(log, logGsn) : new Held(db, dbGsn));
        }
        if (db.descendsFrom(log)) {
            return Optional.of(logGsn <= db.sharedWith(log) ? new Held(db, Math.max(dbGsn, logGsn))
                    : new Held(log, logGsn));
        }
        return Optional.empty();
    }

    /** A history line and the last GSN held of it (by a copy of the log, or a database). */
    public record Held(History line, long gsn) {
    }

    /** The line as text for storage beside the data (Base64 of {@link #writeTo}); {@link #decode} reads it. */
    public String encode() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(size());
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            writeTo(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return java.util.Base64.getEncoder().encodeToString(bytes.toByteArray());
    }

    /** Reads {@link #encode}'s text; null or empty reads as {@link #FIRST}. */
    public static History decode(String text) {
        if (text == null || text.isEmpty()) {
            return FIRST;
        }
        try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(
                java.util.Base64.getDecoder().decode(text)))) {
            return readFrom(in);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("stored history line '" + text + "' is not readable: " + e.getMessage(),
                    e);
        }
    }

    /** The last fork's GSN (the last GSN kept from the history before it); 0 for the first history. */
    public long forkGsn() {
        return forks.isEmpty() ? 0 : forks.get(forks.size() - 1).forkGsn();
    }

    private static String stale(String old, History oldLine, long oldGsn, String other, History newLine, long shared,
                                boolean joinerIsOld) {
        Fork fork = newLine.forks.get(oldLine.forks.size());
        return "member " + old + " holds " + oldLine + " up to GSN " + oldGsn + ", but "
                + (joinerIsOld ? "the group (" + other + ")" : other) + " continues in " + newLine + "; "
                + oldLine.name() + " was left by a forced bootstrap of " + fork.by() + " in term " + fork.term()
                + " at fork GSN " + fork.forkGsn() + " (the same records in both histories up to GSN " + shared
                + "): " + old + "'s log and database may hold GSNs " + (shared + 1) + ".." + oldGsn + " that "
                + newLine.name() + " does not have, or that carry other changesets there. " + old + " was removed "
                + "from the voters by that bootstrap and is refused"
                + (joinerIsOld ? "" : " (it is the one with the old data, though it answered the join)")
                + ": stop " + old + ", empty its group data directory and let it rejoin by a full transfer";
    }

    /** "history 1 (id)" or "history 0 (the group's first)". */
    String name() {
        return "history " + generation() + (forks.isEmpty() ? " (the group's first)" : " (" + id() + ")");
    }

    @Override
    public String toString() {
        if (forks.isEmpty()) {
            return name();
        }
        Fork f = forks.get(forks.size() - 1);
        return name().substring(0, name().length() - 1) + ", forced by " + f.by() + " in term " + f.term()
                + " after GSN " + f.forkGsn() + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof History h && h.forks.equals(forks);
    }

    @Override
    public int hashCode() {
        return forks.hashCode();
    }

    void writeTo(DataOutput out) throws IOException {
        out.writeShort(forks.size());
        for (Fork f : forks) {
            writeFork(out, f);
        }
    }

    static History readFrom(DataInput in) throws IOException {
        int n = in.readUnsignedShort();
        if (n > MAX_FORKS) {
            throw new IOException("history line of " + n + " forks is invalid (at most " + MAX_FORKS + ")");
        }
        List<Fork> forks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            forks.add(readFork(in));
        }
        return new History(forks);
    }

    static void writeFork(DataOutput out, Fork f) throws IOException {
        out.writeLong(f.id().getMostSignificantBits());
        out.writeLong(f.id().getLeastSignificantBits());
        out.writeUTF(f.by().value());
        out.writeLong(f.term());
        out.writeLong(f.agreedGsn());
        out.writeLong(f.forkGsn());
    }

    static Fork readFork(DataInput in) throws IOException {
        UUID id = new UUID(in.readLong(), in.readLong());
        NodeId by = NodeId.of(in.readUTF());
        return new Fork(id, by, in.readLong(), in.readLong(), in.readLong());
    }

    /** Upper bound of {@link #writeTo}'s bytes. */
    int size() {
        int size = 2;
        for (Fork f : forks) {
            size += 16 + 2 + f.by().value().length() * 3 + 24;
        }
        return size;
    }
}
