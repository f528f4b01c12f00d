package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;

/**
 * The watermark exchange beside the log: every member multicasts its domain's W (and its copy of the log's last GSN)
 * once a second as a plain group message, outside the replicated log, so members compare them even when no primary
 * component exists (after a whole-cluster stop, before a majority is back). Receiving keeps the latest per member,
 * also of members that left the view since (a forced bootstrap names what they had). The log's GSN follows W in the
 * message; a reader of version 1 that does not know it ignores the trailing bytes.
 * Thread-safe: {@link #announce} from any thread, {@link #send} on the monitor's thread, {@link #receive} on
 * JGroups' threads.
 */
final class Announcements implements Receiver {
    private static final Logger LOG = LogManager.getLogger(Announcements.class);
    private static final byte VERSION = 1;

    private final NodeId self;
    private final LongSupplier logGsn;
    private final Map<NodeId, BootstrapPlan.Position> latest = new ConcurrentHashMap<>();
    private volatile Gsn own;

    Announcements(NodeId self, LongSupplier logGsn) {
        this.self = self;
        this.logGsn = logGsn;
    }

    /** Sets this member's W; sent with the next {@link #send}. */
    void announce(Gsn w) {
        own = w;
        latest.put(self, new BootstrapPlan.Position(w, Gsn.of(logGsn.getAsLong())));
    }

    /** Multicasts this member's W, if announced yet; a failed send is tried again a second later. */
    void send(JChannel channel) {
        Gsn w = own;
        if (w == null || channel == null || !channel.isConnected()) {
            return;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(48);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeUTF(self.value());
            out.writeLong(w.value());
            out.writeLong(logGsn.getAsLong());
            channel.send(new BytesMessage(null, bytes.toByteArray()));
        } catch (Exception e) {
            LOG.debug("watermark announcement not sent: {}", e.toString());
        }
    }

    @Override
    public void receive(Message msg) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(msg.getArray(), msg.getOffset(),
                msg.getLength()))) {
            if (in.readByte() != VERSION) {
                return; // a later build's announcement: ignored, the log decides anyway
            }
            NodeId node = NodeId.of(in.readUTF());
            Gsn w = Gsn.of(in.readLong());
            Gsn log = in.available() >= Long.BYTES ? Gsn.of(in.readLong()) : w;
            latest.put(node, new BootstrapPlan.Position(w, log));
        } catch (IOException | IllegalArgumentException e) {
            LOG.debug("unreadable group message ignored: {}", e.toString());
        }
    }

    /** The latest W each member announced (this one's own included), by node id. */
    Map<NodeId, Gsn> latest() {
        Map<NodeId, Gsn> w = new TreeMap<>();
        latest.forEach((node, p) -> w.put(node, p.w()));
        return w;
    }

    /** The latest W and log GSN each member announced since this member joined, present or gone, by node id. */
    Map<NodeId, BootstrapPlan.Position> positions() {
        Map<NodeId, BootstrapPlan.Position> all = new TreeMap<>(latest);
        Gsn w = own;
        if (w != null) {
            all.put(self, new BootstrapPlan.Position(w, Gsn.of(logGsn.getAsLong())));
        }
        return all;
    }
}
