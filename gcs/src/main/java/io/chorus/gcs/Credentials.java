package io.chorus.gcs;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * What this member checks joiners against and presents itself: node id, group identity (adopted from the group
 * when not configured), protocol version, the keys derived from the shared secret, and the history line and last GSN
 * of its copy of the log (read from the log's state machine when a token is written). Thread-safe; the identity is
 * the only mutable part (set once).
 */
final class Credentials {
    private final String groupName;
    private final String self;
    private final int protocolVersion;
    private final byte[] authKey;
    private final SecretKey encryptionKey;
    private final Supplier<History> history;
    private final LongSupplier lastGsn;
    private volatile UUID identity;
    private volatile History.Held database;
    private volatile byte refusalCode;

    Credentials(GroupConfig cfg, UUID identity, Supplier<History> history, LongSupplier lastGsn) {
        this.history = history;
        this.lastGsn = lastGsn;
        this.groupName = cfg.groupName();
        this.self = cfg.self().value();
        this.protocolVersion = cfg.protocolVersion();
        this.identity = identity;
        String secret = cfg.sharedSecret();
        this.authKey = secret == null ? null : sha256("chorus-auth|" + groupName + "|" + secret);
        this.encryptionKey = secret == null ? null
                : new SecretKeySpec(sha256("chorus-encrypt|" + groupName + "|" + secret), 0, 16, "AES");
    }

    String self() {
        return self;
    }

    int protocolVersion() {
        return protocolVersion;
    }

    UUID identity() {
        return identity;
    }

    /**
     * The line this member presents and judges others by: its copy of the log's, or its database's when that holds
     * more ({@link History#present}; the database's line was passed at join).
     */
    History history() {
        return held().line();
    }

    long lastGsn() {
        return held().gsn();
    }

    private History.Held held() {
        History.Held db = database;
        History log = history.get();
        long logGsn = lastGsn.getAsLong();
        if (db == null) {
            return new History.Held(log, logGsn);
        }
        // diverged (checked at join, before the channel opens): the log's, which the group refuses as well
        return History.present(log, logGsn, db.line(), db.gsn()).orElse(new History.Held(log, logGsn));
    }

    History.Held databaseHeld() {
        return database;
    }

    /** What this member's database holds (its stored line and applied GSN); null when only the log counts. */
    void database(History.Held db) {
        this.database = db;
    }

    /**
     * Null if a member holding {@code theirs} up to {@code theirGsn} may be in one group with this member's copy of
     * the log, else why not and whether it is the one past the fork ({@link History#judge}).
     */
    History.Refusal historyRefusal(String node, History theirs, long theirGsn) {
        return History.judge(node, theirs, theirGsn, self, history(), lastGsn()).map(r -> new History.Refusal(
                "member " + node + " was refused by " + self + " (group '" + groupName + "'): " + r.text(),
                r.joinerPastFork())).orElse(null);
    }

    /** Notes the reason code of a rejection of this member's join ({@link RefusalHeader}). */
    void refusedWith(byte reason) {
        this.refusalCode = reason;
    }

    /** The reason code of the last rejection of this member's join; 0 when it carried none. */
    byte refusalCode() {
        return refusalCode;
    }

    /** Adopts the group's identity if this member has none yet; returns true if it did. */
    synchronized boolean adopt(UUID groupIdentity) {
        if (identity == null && groupIdentity != null) {
            identity = groupIdentity;
            return true;
        }
        return false;
    }

    boolean hasSecret() {
        return authKey != null;
    }

    SecretKey encryptionKey() {
        return encryptionKey;
    }

    byte[] proof(String node, String identityText, int version) {
        if (authKey == null) {
            return new byte[0];
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(authKey, "HmacSHA256"));
            return mac.doFinal((groupName + "|" + node + "|" + identityText + "|" + version)
                    .getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    /** Null if a member presenting these fields may join this member's group, else why not (and what to do). */
    String refusal(String node, UUID theirIdentity, int theirVersion, byte[] theirProof) {
        String who = "member " + node + " was refused by " + self + " (group '" + groupName + "'): ";
        if (hasSecret() && theirProof.length == 0) {
            return who + "it presents no credential but the group requires one; configure the group's shared secret "
                    + "on " + node;
        }
        if (!hasSecret() && theirProof.length > 0) {
            return who + "it presents a credential but " + self + " has no shared secret configured; configure the "
                    + "same secret on every member or on none";
        }
        if (theirVersion != protocolVersion) {
            return who + "protocol version differs: " + node + " speaks version " + theirVersion + ", the group "
                    + "speaks version " + protocolVersion + "; run the same Chorus protocol version on every member";
        }
        UUID mine = identity;
        if (mine != null && theirIdentity != null && !mine.equals(theirIdentity)) {
            return who + "group identity differs: " + node + " belongs to group " + theirIdentity + ", this group is "
                    + mine + "; a node of another group cannot join (give it a fresh data directory and database, "
                    + "or point it at its own group)";
        }
        String identityText = theirIdentity == null ? "" : theirIdentity.toString();
        if (hasSecret() && !JoinToken.sameProof(theirProof, proof(node, identityText, theirVersion))) {
            return who + "its credential does not match (wrong shared secret); configure the group's shared secret "
                    + "on " + node;
        }
        return null;
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }
}
