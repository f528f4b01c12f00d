package io.chorus.coordinator.apply;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The applier's immutable, validated configuration. Build it with {@link #builder(String)}; every option has a
 * default.
 *
 * @param jdbcUrl       the database to apply into (a superuser or a role allowed to set session_replication_role
 *                      and to use replication origins); a password in the URL is masked in {@link #toString()}
 * @param poolSize      helper connections, each bound to replication origin {@code originPrefix + index}
 *                      (default 4)
 * @param maxBatch      consecutive changesets that may share one apply transaction (default 100; 1 disables sharing)
 * @param queueCapacity changesets accepted ahead of the helpers before {@link Applier#submit} blocks (default 10000)
 * @param queueBytes    estimated heap bytes of the changesets accepted ahead of the helpers before {@link Applier#submit}
 *                      blocks (default 128 MiB; a changeset larger than this is still accepted into an empty queue)
 * @param idleFlush     how long progress of changesets with nothing to write waits for a following transaction
 *                      before a progress-only transaction makes it durable (default 200 ms)
 * @param blockerPoll   how often the head of the line is checked for being blocked by a later helper
 *                      (default 50 ms)
 * @param maxRetries    consecutive re-runs of one transaction after retriable errors before the applier gives up
 *                      (default 30)
 * @param retryWait     upper bound of the pause between re-runs and of the wait for a helper's replication origin to be
 *                      released by a dead backend, of the capture catch-up asked of the guard, and of the drain on
 *                      close (default 10 s; the pause between re-runs grows from 10 ms up to this bound)
 * @param originPrefix  prefix of the helper replication origins (default {@code chorus_h}); replication origins are
 *                      server-wide, so domains sharing one server need different prefixes
 * @param pendingRows   this node's pending rows (default: none)
 * @param guard         the apply-time protocol against racing local commits (default: {@link ApplyGuard#NONE})
 * @param holdAfterRaces local commits raced a batch this many times: its next re-run first holds this node's local
 *                      writers until it commits (default 2; 0 never holds them; see {@link Helper})
 * @param holdTimeout   how long such a re-run waits for the writers already writing before it goes on without the
 *                      hold (default 200 ms)
 */
public record ApplierConfig(String jdbcUrl, int poolSize, int maxBatch, int queueCapacity, long queueBytes,
                            Duration idleFlush,
                            Duration blockerPoll, int maxRetries, Duration retryWait, String originPrefix,
                            PendingRows pendingRows, ApplyGuard guard, int holdAfterRaces, Duration holdTimeout) {
    private static final Pattern ORIGIN_PREFIX = Pattern.compile("[a-z][a-z0-9_]{0,40}");
    private static final Pattern PASSWORD = Pattern.compile("(?i)(password=)[^&;]*");

    public ApplierConfig {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(idleFlush, "idleFlush");
        Objects.requireNonNull(blockerPoll, "blockerPoll");
        Objects.requireNonNull(retryWait, "retryWait");
        Objects.requireNonNull(pendingRows, "pendingRows");
        Objects.requireNonNull(guard, "guard");
        Objects.requireNonNull(holdTimeout, "holdTimeout");
        if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("applier jdbcUrl must be a PostgreSQL JDBC URL (jdbc:postgresql://...)");
        }
        requireRange("poolSize", poolSize, 1, 64);
        requireRange("maxBatch", maxBatch, 1, 10_000);
        requireRange("queueCapacity", queueCapacity, 1, 10_000_000);
        if (queueBytes < 1) {
            throw new IllegalArgumentException("applier queueBytes = " + queueBytes + " must be at least 1 byte");
        }
        requireRange("maxRetries", maxRetries, 0, 1_000);
        requirePositive("idleFlush", idleFlush);
        requirePositive("blockerPoll", blockerPoll);
        requirePositive("retryWait", retryWait);
        requireRange("holdAfterRaces", holdAfterRaces, 0, 1_000);
        requirePositive("holdTimeout", holdTimeout);
        if (originPrefix == null || !ORIGIN_PREFIX.matcher(originPrefix).matches()) {
            throw new IllegalArgumentException("applier originPrefix '" + originPrefix
                    + "' is invalid: use 1-41 characters of a-z, 0-9 and '_', starting with a letter (e.g. chorus_h)");
        }
    }

    public static Builder builder(String jdbcUrl) {
        return new Builder(jdbcUrl);
    }

    /** The replication origin of helper {@code index}. */
    public String originName(int index) {
        return originPrefix + index;
    }

    private static void requireRange(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException("applier " + name + " = " + value + " is out of range [" + min + ", "
                    + max + "]");
        }
    }

    private static void requirePositive(String name, Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException("applier " + name + " = " + value + " must be positive");
        }
    }

    @Override
    public String toString() {
        return "ApplierConfig[jdbcUrl=" + PASSWORD.matcher(jdbcUrl).replaceAll("$1***") + ", poolSize=" + poolSize
                + ", maxBatch=" + maxBatch + ", queueCapacity=" + queueCapacity + ", queueBytes=" + queueBytes + ", idleFlush=" + idleFlush.toMillis()
                + "ms, blockerPoll=" + blockerPoll.toMillis() + "ms, maxRetries=" + maxRetries + ", retryWait="
                + retryWait.toMillis() + "ms, originPrefix=" + originPrefix + ", holdAfterRaces=" + holdAfterRaces
                + ", holdTimeout=" + holdTimeout.toMillis() + "ms]";
    }

    /** Collects options; {@link #build()} validates them. Not thread-safe. */
    public static final class Builder {
        private final String jdbcUrl;
        private int poolSize = 4;
        private int maxBatch = 100;
        private int queueCapacity = 10_000;
        private long queueBytes = 128L << 20;
        private Duration idleFlush = Duration.ofMillis(200);
        private Duration blockerPoll = Duration.ofMillis(50);
        private int maxRetries = 30;
        private Duration retryWait = Duration.ofSeconds(10);
        private String originPrefix = "chorus_h";
        private PendingRows pendingRows = PendingRows.NONE;
        private ApplyGuard guard = ApplyGuard.NONE;
        private int holdAfterRaces = 2;
        private Duration holdTimeout = Duration.ofMillis(200);

        private Builder(String jdbcUrl) {
            this.jdbcUrl = jdbcUrl;
        }

        public Builder poolSize(int v) {
            poolSize = v;
            return this;
        }

        public Builder maxBatch(int v) {
            maxBatch = v;
            return this;
        }

        public Builder queueCapacity(int v) {
            queueCapacity = v;
            return this;
        }

        public Builder queueBytes(long v) {
            queueBytes = v;
            return this;
        }

        public Builder idleFlush(Duration v) {
            idleFlush = v;
            return this;
        }

        public Builder blockerPoll(Duration v) {
            blockerPoll = v;
            return this;
        }

        public Builder maxRetries(int v) {
            maxRetries = v;
            return this;
        }

        public Builder retryWait(Duration v) {
            retryWait = v;
            return this;
        }

        public Builder originPrefix(String v) {
            originPrefix = v;
            return this;
        }

        public Builder pendingRows(PendingRows v) {
            pendingRows = v;
            return this;
        }

        public Builder guard(ApplyGuard v) {
            guard = v;
            return this;
        }

        public Builder holdAfterRaces(int v) {
            holdAfterRaces = v;
            return this;
        }

        public Builder holdTimeout(Duration v) {
            holdTimeout = v;
            return this;
        }

        public ApplierConfig build() {
            return new ApplierConfig(jdbcUrl, poolSize, maxBatch, queueCapacity, queueBytes, idleFlush, blockerPoll, maxRetries,
                    retryWait, originPrefix, pendingRows, guard, holdAfterRaces, holdTimeout);
        }
    }
}
