package io.chorus.gcs;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.UUID;
import org.jgroups.Message;
import org.jgroups.auth.AuthToken;

/**
 * What a member presents when it joins or merges (and what a coordinator answers with): its node id, the group
 * identity it holds (if any), its protocol version, a proof of the shared secret (an HMAC over the fields before it,
 * empty without a secret), and the {@link History} line of its copy of the log with the last GSN it applied. The instance configured in the stack holds the local {@link Credentials}; instances read
 * from the wire only carry fields. The decision is made by {@link JoinGuard}, which can say why it refuses.
 */
public final class JoinToken extends AuthToken {
    /** The protocol version from which a token carries the history line and last GSN. */
    static final int HISTORY_SINCE = 3;
    private String nodeId = "";
    private String identity = "";
    private int protocolVersion;
    private byte[] proof = new byte[0];
    private History history = History.FIRST;
    private long lastGsn;
    private Credentials local;

    /** For deserialization. */
    public JoinToken() {
    }

    JoinToken(Credentials local) {
        this.local = local;
    }

    @Override
    public String getName() {
        return JoinToken.class.getName();
    }

    @Override
    public int size() {
        return 2 + nodeId.length() * 3 + 2 + identity.length() * 3 + 4 + 4 + proof.length
                + (protocolVersion >= HISTORY_SINCE || local != null ? history.size() + 8 : 0);
    }

    /** Never called: {@link JoinGuard} decides (with a reason); kept strict in case a plain AUTH uses it. */
    @Override
    public boolean authenticate(AuthToken token, Message msg) {
        return local != null && token instanceof JoinToken t && local.refusal(t.nodeId, t.identity(),
                t.protocolVersion, t.proof) == null;
    }

    @Override
    public void writeTo(DataOutput out) throws IOException {
        if (local != null) {
            nodeId = local.self();
            UUID id = local.identity();
            identity = id == null ? "" : id.toString();
            protocolVersion = local.protocolVersion();
            proof = local.proof(nodeId, identity, protocolVersion);
            history = local.history();
            lastGsn = local.lastGsn();
        }
        out.writeUTF(nodeId);
        out.writeUTF(identity);
        out.writeInt(protocolVersion);
        out.writeInt(proof.length);
        out.write(proof);
        if (protocolVersion >= HISTORY_SINCE) {
            history.writeTo(out);
            out.writeLong(lastGsn);
        }
    }

    @Override
    public void readFrom(DataInput in) throws IOException {
        nodeId = in.readUTF();
        identity = in.readUTF();
        protocolVersion = in.readInt();
        int n = in.readInt();
        if (n < 0 || n > 1024) {
            throw new IOException("join token proof of " + n + " bytes is invalid");
        }
        proof = new byte[n];
        in.readFully(proof);
        // an older member's token ends here: read as much, so that its join is refused for its version, by name
        history = protocolVersion >= HISTORY_SINCE ? History.readFrom(in) : History.FIRST;
        lastGsn = protocolVersion >= HISTORY_SINCE ? in.readLong() : 0;
    }

    String nodeId() {
        return nodeId;
    }

    UUID identity() {
        return identity.isEmpty() ? null : UUID.fromString(identity);
    }

    int protocolVersion() {
        return protocolVersion;
    }

    History history() {
        return history;
    }

    long lastGsn() {
        return lastGsn;
    }

    byte[] proof() {
        return proof.clone();
    }

    static boolean sameProof(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }
}
