package io.chorus.gcs;

import io.chorus.changeset.NodeId;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jgroups.protocols.raft.REDIRECT;
import org.jgroups.raft.RaftHandle;

/** Adds or removes a voter through the log (forwarded to the leader), bounded by the append timeout. */
final class Reconfiguration {
    private static final Logger LOG = LogManager.getLogger(Reconfiguration.class);

    private Reconfiguration() {
    }

    static void change(RaftHandle raft, GroupConfig cfg, NodeId member, boolean add) {
        String what = (add ? "adding " : "removing ") + member + (add ? " to" : " from") + " the voters of group '"
                + cfg.groupName() + "'";
        LOG.info("{}", what);
        try {
            // through REDIRECT, which forwards to the leader (RAFT itself accepts changes only on the leader)
            REDIRECT redirect = raft.channel().getProtocolStack().findProtocol(REDIRECT.class);
            CompletableFuture<byte[]> f = add ? redirect.addServer(member.value())
                    : redirect.removeServer(member.value());
            f.get(cfg.appendTimeout().toMillis(), TimeUnit.MILLISECONDS);
            LOG.info("done {}; voters now {}", what, raft.raft().members());
        } catch (TimeoutException e) {
            throw new GcsException(GcsException.Kind.TIMEOUT, what + " was not committed within "
                    + cfg.appendTimeout().toMillis() + " ms; check that the group has a primary component and retry",
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GcsException(GcsException.Kind.FAILED, what + " was interrupted", e);
        } catch (ExecutionException e) {
            throw new GcsException(GcsException.Kind.FAILED, what + " failed: " + e.getCause().getMessage()
                    + "; retry when the group has a leader and no other change is in progress", e.getCause());
        } catch (Exception e) {
            throw new GcsException(GcsException.Kind.FAILED, what + " failed: " + e.getMessage()
                    + "; retry when the group has a leader and no other change is in progress", e);
        }
    }
}
