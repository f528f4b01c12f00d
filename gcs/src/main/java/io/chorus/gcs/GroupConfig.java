package io.chorus.gcs;

import io.chorus.changeset.NodeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * The validated, immutable configuration of one member of a group. Build it with {@link #builder}; defaults are
 * documented on the builder's setters.
 *
 * @param groupName the JGroups cluster name; every member of one group uses the same
 * @param self this member's node id; must be in {@code members}
 * @param groupIdentity the group's identity, or null to adopt the identity of the group this member joins (a member
 *     that finds no group creates one)
 * @param protocolVersion the wire protocol version; members with another version are refused
 * @param dataDir where the replicated log, its snapshots and the adopted identity are kept
 * @param transport TCP (production) or IN_JVM (tests)
 * @param members the static member list (node id and TCP endpoint); the voters of the log at bootstrap
 * @param voting whether this member votes; must be true for now (every listed member votes)
 * @param appendTimeout how long an append may wait for commit, including waiting for a primary component
 * @param fsync whether the log is forced to disk before an entry counts as stored (default true)
 * @param retentionBytes the log is compacted into a snapshot once it holds more bytes than this
 * @param retentionAge the log is compacted once its oldest entry is older than this
 * @param sharedSecret the credential of the production stack (null: no authentication and no encryption)
 * @param maxBatchRecords at most this many records share one log entry
 * @param queueCapacity bound of the send queue and of the delivery hand-off queue (records; the hand-off is also
 *     bounded to 64 MiB of payload)
 * @param createsIdentity whether a member without an identity that finds itself alone forms a new group (the
 *     bootstrapping member); when false it waits for a member with the group's identity and adopts it
 * @param catalog where the member keeps the catalog entries of the records it applies ({@link DefinitionCatalog}):
 *     the caller may pass its own to resolve them from the first record replayed on, before the join returns
 */
public record GroupConfig(String groupName, NodeId self, UUID groupIdentity, int protocolVersion, Path dataDir,
                          Transport transport, List<Member> members, boolean voting, Duration appendTimeout,
                          boolean fsync, long retentionBytes, Duration retentionAge, String sharedSecret,
                          int maxBatchRecords, int queueCapacity, boolean createsIdentity, boolean readmitsMembers,
                          DefinitionCatalog catalog) {

    public GroupConfig {
        Objects.requireNonNull(self, "self");
        Objects.requireNonNull(catalog, "catalog");
        if (groupName == null || !groupName.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new IllegalArgumentException("group name '" + groupName
                    + "' is invalid: use 1-64 characters of letters, digits, '_', '.' or '-'");
        }
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(transport, "transport");
        members = List.copyOf(members);
        checkMembers(self, members);
        require(voting, "member " + self + ": non-voting members are not supported yet (every listed member votes); "
                + "to bring in a member without stalling commits, start it, let it catch up, then addMember it");
        require(protocolVersion >= 1, "protocolVersion must be >= 1, got " + protocolVersion);
        require(positive(appendTimeout), "appendTimeout must be positive, got " + appendTimeout);
        require(positive(retentionAge), "retentionAge must be positive, got " + retentionAge);
        require(retentionBytes >= 64 * 1024, "retentionBytes must be at least 65536, got " + retentionBytes);
        require(retentionBytes <= Integer.MAX_VALUE, "retentionBytes must be at most 2 GiB, got " + retentionBytes);
        require(maxBatchRecords >= 1 && maxBatchRecords <= 4096, "maxBatchRecords must be 1..4096, got " + maxBatchRecords);
        require(queueCapacity >= 1, "queueCapacity must be >= 1, got " + queueCapacity);
        require(sharedSecret == null || sharedSecret.length() >= 16,
                "the shared secret must have at least 16 characters (it is hashed into the authentication and "
                        + "encryption keys)");
    }

    private static void checkMembers(NodeId self, List<Member> members) {
        Set<NodeId> ids = new HashSet<>();
        Set<String> endpoints = new HashSet<>();
        for (Member m : members) {
            require(ids.add(m.id()), "member " + m.id() + " is listed twice");
            require(endpoints.add(m.endpoint()), "endpoint " + m.host() + ":" + m.port() + " is listed twice");
        }
        require(ids.contains(self), "this member " + self + " is not in the member list " + members
                + "; add it as " + self + "=host:port");
    }

    private static boolean positive(Duration d) {
        return d != null && !d.isNegative() && !d.isZero();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** This member's own entry in the member list. */
    public Member selfMember() {
        return members.stream().filter(m -> m.id().equals(self)).findFirst().orElseThrow();
    }

    /** The configuration with secrets masked, for logs. */
    @Override
    public String toString() {
        return "GroupConfig[group=" + groupName + ", self=" + self + ", identity=" + groupIdentity
                + ", protocolVersion=" + protocolVersion + ", dataDir=" + dataDir + ", transport=" + transport
                + ", members=" + members + ", voting=" + voting + ", appendTimeout=" + appendTimeout
                + ", fsync=" + fsync + ", retentionBytes=" + retentionBytes + ", retentionAge=" + retentionAge
                + ", sharedSecret=" + (sharedSecret == null ? "none" : "****") + ", maxBatchRecords="
                + maxBatchRecords + ", queueCapacity=" + queueCapacity + ", createsIdentity=" + createsIdentity
                + ", readmitsMembers=" + readmitsMembers + "]";
    }

    /**
     * The protocol version this build speaks, the default of {@link Builder#protocolVersion} (and of the arbitrator's
     * {@code protocol-version}): members with another one are refused at join, naming both versions.
     * 3: the join token carries the member's history line and last GSN ({@link History}), and a refusal past a fork
     * carries a reason code ({@link RefusalHeader}); a member of version 2 could not read the token.
     * 4: log entries carry catalog entries (entry format 3, snapshot format 4), and changeset frames name relation
     * versions by id (wire format 2); a member of version 3 could read neither.
     */
    public static final int PROTOCOL_VERSION = 4;

    public static Builder builder(String groupName, NodeId self, Path dataDir) {
        return new Builder(groupName, self, dataDir);
    }

    /** Builds a {@link GroupConfig}; not thread-safe. */
    public static final class Builder {
        private final String groupName;
        private final NodeId self;
        private final Path dataDir;
        private UUID groupIdentity;
        private int protocolVersion = PROTOCOL_VERSION;
        private Transport transport = Transport.TCP;
        private List<Member> members = List.of();
        private boolean voting = true;
        private Duration appendTimeout = Duration.ofSeconds(30);
        private boolean fsync = true;
        private long retentionBytes = 256L * 1024 * 1024;
        private Duration retentionAge = Duration.ofHours(24);
        private String sharedSecret;
        private int maxBatchRecords = 32;
        private int queueCapacity = 10_000;
        private boolean readmitsMembers;
        private DefinitionCatalog catalog;
        private boolean createsIdentity = true;

        private Builder(String groupName, NodeId self, Path dataDir) {
            this.groupName = groupName;
            this.self = self;
            this.dataDir = dataDir;
        }

        /** Default true: alone and without an identity, form a new group; false: wait to adopt one. */
        public Builder createsIdentity(boolean v) { createsIdentity = v; return this; }
        /** Default null: adopt the group's identity. */
        public Builder groupIdentity(UUID v) { groupIdentity = v; return this; }
        /** Default 1. */
        public Builder protocolVersion(int v) { protocolVersion = v; return this; }
        /** Default TCP. */
        public Builder transport(Transport v) { transport = v; return this; }
        /** Required. */
        public Builder members(List<Member> v) { members = v; return this; }
        /** Default true. */
        public Builder voting(boolean v) { voting = v; return this; }
        /** Default 30 s. */
        public Builder appendTimeout(Duration v) { appendTimeout = v; return this; }
        /** Default true. */
        public Builder fsync(boolean v) { fsync = v; return this; }
        /** Default 256 MiB. */
        public Builder retentionBytes(long v) { retentionBytes = v; return this; }
        /** Default 24 h. */
        public Builder retentionAge(Duration v) { retentionAge = v; return this; }
        /** Default none (no authentication, no encryption). */
        public Builder sharedSecret(String v) { sharedSecret = v; return this; }
        /** Default 32. */
        public Builder maxBatchRecords(int v) { maxBatchRecords = v; return this; }
        /** Default 10 000. */
        public Builder queueCapacity(int v) { queueCapacity = v; return this; }
        /**
         * Default false. When true, this member, while it leads a primary component, adds back as voters the listed
         * members that are connected but no voters (removed by a forced bootstrap, back with a history the group
         * accepts): {@code Readmission}. Leave it off where voters are removed on purpose.
         */
        public Builder readmitsMembers(boolean v) { readmitsMembers = v; return this; }

        public Builder catalog(DefinitionCatalog v) { catalog = v; return this; }

        public GroupConfig build() {
            return new GroupConfig(groupName, self, groupIdentity, protocolVersion, dataDir, transport, members,
                    voting, appendTimeout, fsync, retentionBytes, retentionAge, sharedSecret, maxBatchRecords,
                    queueCapacity, createsIdentity, readmitsMembers, catalog == null ? new DefinitionCatalog() : catalog);
        }
    }
}
