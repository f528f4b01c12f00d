package io.chorus.gcs;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jgroups.Message;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.AUTH;
import org.jgroups.protocols.AuthHeader;
import org.jgroups.protocols.pbcast.GMS;

/**
 * AUTH with reasons: checks every join and merge request against this member's {@link Credentials} (shared secret,
 * protocol version, group identity) and refuses with a message that says which check failed, what each side has and
 * what to do; the refused member's join fails with that message, and both sides log it. On a join response the
 * joiner adopts the group's identity if it has none. Sits right below GMS.
 */
public final class JoinGuard extends AUTH {
    private static final Logger LOG = LogManager.getLogger(JoinGuard.class);
    /** Protocol id of Chorus' join guard (protocols outside JGroups' own table need one to carry headers). */
    static final short PROTOCOL_ID = 1701;

    static {
        ClassConfigurator.addProtocol(PROTOCOL_ID, JoinGuard.class);
    }
    private Credentials credentials;

    /** For the protocol stack; configured with {@link #credentials(Credentials)} before use. */
    public JoinGuard() {
        setAuthCoord(true);
    }

    JoinGuard credentials(Credentials c) {
        this.credentials = c;
        setAuthToken(new JoinToken(c));
        return this;
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
        if (type == GMS.GmsHeader.JOIN_RSP || type == GMS.GmsHeader.MERGE_RSP
                || type == GMS.GmsHeader.INSTALL_MERGE_VIEW) {
            if (credentials.adopt(t.identity())) {
                LOG.info("adopted group identity {} from {}", t.identity(), t.nodeId());
            }
            return true;
        }
        String refusal = credentials.refusal(t.nodeId(), t.identity(), t.protocolVersion(), t.proof());
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
