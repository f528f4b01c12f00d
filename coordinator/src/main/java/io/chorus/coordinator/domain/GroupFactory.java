package io.chorus.coordinator.domain;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.coordinator.config.NodeConfig;
import io.chorus.gcs.DefinitionCatalog;
import io.chorus.gcs.Group;
import io.chorus.gcs.GroupConfig;
import io.chorus.gcs.GroupListener;
import io.chorus.gcs.Member;
import io.chorus.gcs.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Turns the sidecar's configuration into one database's group: its own port offset, data folder and members. */
final class GroupFactory {
    /** The protocol version of Chorus' log records; members with another one are refused at join. */
    // 2: the group log's entries, responses and snapshots moved to format 2 (pipelined appends), and certification
    // loses a changeset as a whole; members of version 1 decide differently and are refused at join
    // 3: the join token carries the member's history line and last GSN (a forced bootstrap's fork), and a refusal
    // past a fork carries a reason code; a member of version 2 cannot read the token
    // 4: changesets name relation versions the group's catalog holds by id alone (wire format 2), and log entries and
    // snapshots carry that catalog; a member of version 3 could decode neither. The gcs module's current version
    static final int PROTOCOL_VERSION = GroupConfig.PROTOCOL_VERSION;

    private GroupFactory() {
    }

    static Group join(NodeConfig cfg, String groupName, UUID identity, boolean bootstrap, String database,
                      GroupListener listener, Gsn resumeAfter, DefinitionCatalog catalog) {
        return join(cfg, groupName, identity, bootstrap, database, listener, resumeAfter, null, catalog);
    }

    /** Joins presenting what the database holds beside the log ({@link Group#join(GroupConfig, GroupListener, Gsn,
     * io.chorus.gcs.History.Held)}); null when its data is about to be replaced (a full transfer). */
    static Group join(NodeConfig cfg, String groupName, UUID identity, boolean bootstrap, String database,
                      GroupListener listener, Gsn resumeAfter, io.chorus.gcs.History.Held held,
                      DefinitionCatalog catalog) {
        try {
            return Group.join(config(cfg, groupName, identity, bootstrap, database, catalog), listener, resumeAfter,
                    held);
        } catch (IllegalArgumentException e) {
            throw new ChorusException("group configuration of " + groupName + " is invalid: " + e.getMessage(), e);
        }
    }

    /**
     * Records delivered and not yet taken by the domain's delivery thread (and records queued to send): each holds a
     * whole changeset, up to tens of KB with large rows, so the bound keeps a lagging node's heap small; a full queue
     * holds the log back (flow control).
     */
    private static final int HAND_OFF_RECORDS = 1_000;

    /** The folder of the group's log and identity of {@code database} on this node. */
    static java.nio.file.Path dir(NodeConfig cfg, String database) {
        return cfg.dataDir().resolve(database).resolve("group");
    }

    /**
     * Only the bootstrapping node may form the group; the others wait to adopt its identity. {@code catalog} is the
     * domain's: the relation versions its records name by id resolve there from the first record replayed on.
     */
    static GroupConfig config(NodeConfig cfg, String groupName, UUID identity, boolean bootstrap, String database,
                              DefinitionCatalog catalog) {
        return GroupConfig.builder(groupName, cfg.node(), dir(cfg, database))
                .catalog(catalog)
                .groupIdentity(identity)
                .createsIdentity(bootstrap)
                .protocolVersion(PROTOCOL_VERSION)
                .transport(Transport.TCP)
                .members(members(cfg, groupName))
                .appendTimeout(cfg.group().appendTimeout())
                .fsync(cfg.group().fsync())
                .retentionBytes(Math.min(cfg.group().retentionBytes(), Integer.MAX_VALUE))
                .retentionAge(cfg.group().retentionAge())
                .sharedSecret(cfg.group().secret())
                .queueCapacity(HAND_OFF_RECORDS)
                // voters leave only by a forced bootstrap: one that comes back with an accepted history votes again
                .readmitsMembers(true)
                .build();
    }

    /** Every member at its configured host and base port plus this group's offset. */
    static List<Member> members(NodeConfig cfg, String groupName) {
        int offset = NodeConfig.Group.portOffset(groupName);
        List<Member> out = new ArrayList<>();
        for (Map.Entry<String, String> e : cfg.group().members().entrySet()) {
            String endpoint = e.getValue();
            int colon = endpoint.lastIndexOf(':');
            if (colon <= 0) {
                throw new ChorusException("group.members." + e.getKey() + " must be host:port, got '" + endpoint + "'");
            }
            int port;
            try {
                port = Integer.parseInt(endpoint.substring(colon + 1).trim());
            } catch (NumberFormatException ex) {
                throw new ChorusException("group.members." + e.getKey() + " has a bad port: '" + endpoint + "'");
            }
            out.add(new Member(NodeId.of(e.getKey()), endpoint.substring(0, colon), port + offset));
        }
        return out;
    }
}
