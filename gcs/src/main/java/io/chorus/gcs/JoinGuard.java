package io.chorus.gcs;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jgroups.Message;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.stack.Protocol;
import org.jgroups.util.MessageBatch;
import org.jgroups.protocols.AUTH;
import org.jgroups.protocols.AuthHeader;
import org.jgroups.protocols.pbcast.GMS;

/**
 * AUTH with reasons: checks every join and merge request against this member's {@link Credentials} (shared secret,
 * protocol version, group identity, history: {@link History#refusal}) and refuses with a message that says which check failed, what each side has and
 * what to do; the refused member's join fails with that message, and both sides log it. On a join response the
 * joiner adopts the group's identity if it has none.
 *
 * <p>Without encryption it sits right below GMS. With encryption it sits right below SYM_ENCRYPT: a member with the
 * wrong key could not even be decrypted above that, and would end up alone instead of being told why; headers are
 * not encrypted, so the guard reads the join request's GMS and AUTH headers there.
 */
public final class JoinGuard extends AUTH {
    private static final Logger LOG = LogManager.getLogger(JoinGuard.class);
    /** Protocol id of Chorus' join guard (protocols outside JGroups' own table need one to carry headers). */
    static final short PROTOCOL_ID = 1701;

    static {
        ClassConfigurator.addProtocol(PROTOCOL_ID, JoinGuard.class);
        RefusalHeader.register();
    }
    private Credentials credentials;
    /** The encryption protocol above this one, if any: refusals travel below it, unencrypted. */
    private Protocol encryption;

    /** For the protocol stack; configured with {@link #credentials(Credentials)} before use. */
    public JoinGuard() {
        setAuthCoord(true);
    }

    JoinGuard credentials(Credentials c) {
        this.credentials = c;
        setAuthToken(new JoinToken(c));
        return this;
    }

    /** Declares the encryption protocol above this one (the guard then sits below it, see the class comment). */
    JoinGuard below(Protocol encryption) {
        this.encryption = encryption;
        return this;
    }

    /**
     * Incoming join and merge requests must carry a token; responses are checked only when they carry one (a refusal
     * carries none), for the identity to adopt. Unlike AUTH this never parses a join response, whose payload may be
     * encrypted at this level.
     */
    @Override
    protected boolean needsAuthentication(Message msg, GMS.GmsHeader hdr) {
        if (isRequest(hdr.getType())) {
            return true;
        }
        return isResponse(hdr.getType()) && msg.getHeader(id) != null;
    }

    /** Every outgoing join or merge request and response carries this member's token. */
    @Override
    public Object down(Message msg) {
        GMS.GmsHeader h = getGMSHeader(msg);
        if (h != null && (isRequest(h.getType()) || isResponse(h.getType())) && msg.getHeader(id) == null) {
            msg.putHeader(id, new AuthHeader(auth_token));
        }
        return down_prot.down(msg);
    }

    private static boolean isRequest(byte type) {
        return type == GMS.GmsHeader.JOIN_REQ || type == GMS.GmsHeader.JOIN_REQ_WITH_STATE_TRANSFER
                || type == GMS.GmsHeader.MERGE_REQ;
    }

    private static boolean isResponse(byte type) {
        return type == GMS.GmsHeader.JOIN_RSP || type == GMS.GmsHeader.MERGE_RSP
                || type == GMS.GmsHeader.INSTALL_MERGE_VIEW;
    }

    /**
     * A refusal is sent from this level, below the encryption protocol, so it arrives unencrypted; the encryption
     * protocol would drop it, so it goes straight to GMS, which fails the join with the refusal's text.
     */
    @Override
    public Object up(Message msg) {
        if (isCodedRefusal(msg)) {
            return gms().up(msg);
        }
        if (isUnencryptedJoinResponse(msg)) {
            LOG.debug("join response without encryption from {}: handing it to GMS", msg.getSrc());
            return gms().up(msg);
        }
        return super.up(msg);
    }

    @Override
    public void up(MessageBatch batch) {
        for (java.util.Iterator<Message> it = batch.iterator(); it.hasNext(); ) {
            Message msg = it.next();
            if (isCodedRefusal(msg) || isUnencryptedJoinResponse(msg)) {
                it.remove();
                gms().up(msg);
            }
        }
        if (!batch.isEmpty()) {
            super.up(batch);
        }
    }

    private Protocol gms() {
        Protocol p = getUpProtocol();
        while (p != null && !(p instanceof GMS)) {
            p = p.getUpProtocol();
        }
        if (p == null) {
            throw new IllegalStateException("no GMS above JoinGuard in the stack of " + credentials.self());
        }
        return p;
    }

    /**
     * A join rejection with a reason code ({@link RefusalHeader}, under this protocol's id where a response's token
     * would be: a rejection carries none): the code is noted in the credentials for {@link Group#join} before GMS
     * fails the join with the text.
     */
    private boolean isCodedRefusal(Message msg) {
        GMS.GmsHeader h = getGMSHeader(msg);
        if (h == null || h.getType() != GMS.GmsHeader.JOIN_RSP || !(msg.getHeader(id) instanceof RefusalHeader r)) {
            return false;
        }
        credentials.refusedWith(r.reason());
        return true;
    }

    /** A join rejection that carries its reason as a code ({@link RefusalHeader}) beside the text. */
    private void sendCodedRejection(org.jgroups.Address dest, String text, byte reason) {
        Message msg = new org.jgroups.BytesMessage(dest)
                .putHeader(GMS_ID, new GMS.GmsHeader(GMS.GmsHeader.JOIN_RSP))
                .setArray(GMS.marshal(new org.jgroups.protocols.pbcast.JoinRsp(text)));
        msg.putHeader(id, new RefusalHeader(reason));
        down_prot.down(msg);
    }

    private boolean isUnencryptedJoinResponse(Message msg) {
        GMS.GmsHeader h = getGMSHeader(msg);
        return encryption != null && h != null && h.getType() == GMS.GmsHeader.JOIN_RSP
                && msg.getHeader(encryption.getId()) == null;
    }

    @Override
    protected boolean handleAuthHeader(GMS.GmsHeader gmsHeader, AuthHeader authHeader, Message msg) {
        if (!needsAuthentication(msg, gmsHeader)) {
            return true;
        }
        if (!(authHeader.getToken() instanceof JoinToken t)) {
            sendRejectionMessage(gmsHeader.getType(), msg.getSrc(), "join refused by " + credentials.self()
                    + ": the request carries no Chorus join token; every member must run Chorus' group stack");
            return false;
        }
        byte type = gmsHeader.getType();
        if (isResponse(type)) {
            if (credentials.adopt(t.identity())) {
                LOG.info("adopted group identity {} from {}", t.identity(), t.nodeId());
            }
            return true;
        }
        String refusal = credentials.refusal(t.nodeId(), t.identity(), t.protocolVersion(), t.proof());
        if (refusal == null) {
            History.Refusal h = credentials.historyRefusal(t.nodeId(), t.history(), t.lastGsn());
            if (h != null && h.joinerPastFork() && type != GMS.GmsHeader.MERGE_REQ) {
                LOG.warn("{}", h.text());
                sendCodedRejection(msg.getSrc(), h.text(), RefusalHeader.PAST_FORK);
                return false;
            }
            refusal = h == null ? null : h.text();
        }
        if (refusal == null) {
            if (credentials.adopt(t.identity())) {
                LOG.info("adopted group identity {} from joining member {}", t.identity(), t.nodeId());
            }
            return true;
        }
        LOG.warn("{}", refusal);
        sendRejectionMessage(type, msg.getSrc(), refusal);
        return false;
    }
}
