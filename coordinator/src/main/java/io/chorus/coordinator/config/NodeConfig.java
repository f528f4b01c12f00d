package io.chorus.coordinator.config;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.NodeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The sidecar's configuration: validated once by {@link ConfigLoader}, immutable afterwards. Every option, its default
 * and its meaning are listed in {@code docs/configuration.md}; {@link #describe()} gives the effective configuration
 * with secrets masked, for the start-up log.
 *
 * @param node        this node's id (created once and kept in {@code dataDir/node-id} when not configured)
 * @param dataDir     where the sidecar keeps its state (node id, group log, capture state)
 * @param postgres    how to reach the local PostgreSQL
 * @param group       the group transport and its voting members
 * @param helpers     apply helper connections per database
 * @param mode        {@code async} or {@code sync}
 * @param holdAfterRaces local commits raced an apply batch this many times: its next re-run first holds this node's
 *                     local write statements until it commits ({@code apply.holdAfterRaces}, default 2; 0 = never)
 * @param holdTimeout  how long such a re-run waits for the local writers already writing before it goes on without
 *                     holding them ({@code apply.holdTimeout}, default 200 ms)
 * @param faultControl for tests only ({@code testing.faultControl}): the file through which a test harness injects
 *                     group faults into this sidecar ({@code sidecar.FaultControl}); null (the default): no fault
 *                     control
 */
public record NodeConfig(NodeId node, Path dataDir, Postgres postgres, Group group, int helpers, Mode mode,
                         Duration requestTimeout, Path faultControl, int holdAfterRaces, Duration holdTimeout) {

    public enum Mode { ASYNC, SYNC }

    /** A configuration without a fault control (every production configuration). */
    public NodeConfig(NodeId node, Path dataDir, Postgres postgres, Group group, int helpers, Mode mode,
                      Duration requestTimeout) {
        this(node, dataDir, postgres, group, helpers, mode, requestTimeout, null);
    }

    /** A configuration with the default writer hold ({@code apply.holdAfterRaces}, {@code apply.holdTimeout}). */
    public NodeConfig(NodeId node, Path dataDir, Postgres postgres, Group group, int helpers, Mode mode,
                      Duration requestTimeout, Path faultControl) {
        this(node, dataDir, postgres, group, helpers, mode, requestTimeout, faultControl, 2, Duration.ofMillis(200));
    }

    public NodeConfig {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(postgres, "postgres");
        Objects.requireNonNull(group, "group");
        if (helpers < 1 || helpers > 64) {
            throw new ChorusException("apply.helpers must be between 1 and 64, got " + helpers);
        }
        if (holdAfterRaces < 0 || holdAfterRaces > 1_000) {
            throw new ChorusException("apply.holdAfterRaces must be between 0 (never hold) and 1000, got "
                    + holdAfterRaces);
        }
        Objects.requireNonNull(holdTimeout, "holdTimeout");
        if (holdTimeout.isNegative() || holdTimeout.isZero() || holdTimeout.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new ChorusException("apply.holdTimeout must be more than 0 and at most 10s, got " + holdTimeout);
        }
    }

    /**
     * The local PostgreSQL.
     *
     * @param databases the databases this sidecar installs its SQL surface into and serves once enabled
     */
    public record Postgres(String host, int port, String user, String password, List<String> databases) {
        public Postgres {
            databases = List.copyOf(databases);
            if (port < 1 || port > 65535) {
                throw new ChorusException("postgres.port must be 1-65535, got " + port);
            }
            if (databases.isEmpty()) {
                throw new ChorusException("postgres.databases is empty: list the databases to serve, e.g. databases: [app]");
            }
        }

        public String jdbcUrl(String database) {
            return "jdbc:postgresql://" + host + ":" + port + "/" + database;
        }

        /** The JDBC URL with user and password as parameters, for components configured by URL; never log it. */
        public String jdbcUrlWithCredentials(String database) {
            String url = jdbcUrl(database) + "?user=" + encode(user) + "&options=" + encode(SIDECAR_OPTIONS);
            return password == null ? url : url + "&password=" + encode(password);
        }

        /**
         * Session settings of every sidecar connection: its own commits (state, barriers, sync messages) never wait
         * for synchronous replication, which in sync mode waits for this very sidecar (and, outside the primary
         * component, would wait for ever). Helpers override it with {@code off}. Its own DDL (publication, bookkeeping,
         * enable-time policies) is this node's and never waits for the group's DDL order (chorus-3.sql).
         */
        static final String SIDECAR_OPTIONS = "-c synchronous_commit=local -c chorus.ddl_order=off";

        /** A new connection to {@code database} as the configured user, named in pg_stat_activity. */
        public java.sql.Connection connect(String database, String applicationName) throws java.sql.SQLException {
            java.util.Properties p = new java.util.Properties();
            p.setProperty("user", user);
            if (password != null) {
                p.setProperty("password", password);
            }
            p.setProperty("ApplicationName", applicationName);
            p.setProperty("connectTimeout", "10");
            p.setProperty("options", SIDECAR_OPTIONS);
            return java.sql.DriverManager.getConnection(jdbcUrl(database), p);
        }

        private static String encode(String v) {
            return java.net.URLEncoder.encode(v, java.nio.charset.StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "Postgres[host=" + host + ", port=" + port + ", user=" + user + ", password="
                    + (password == null || password.isEmpty() ? "(none)" : "****") + ", databases=" + databases + "]";
        }
    }

    /**
     * The group transport.
     *
     * @param listen    host:port this node's group endpoint binds to (each database's group adds
     *                  {@link #portOffset(String)} to the port)
     * @param members   every voting member: node id → host:port (data nodes and arbitrators)
     * @param secret    shared secret authenticating members and keying encryption (null: not set)
     * @param fsync     whether the group log is fsynced on every write
     */
    public record Group(String listenHost, int listenPort, Map<String, String> members, String secret, boolean fsync,
                        Duration appendTimeout, long retentionBytes, Duration retentionAge) {
        public Group {
            members = Map.copyOf(members);
            if (members.isEmpty()) {
                throw new ChorusException("group.members is empty: list every voting member as node-id: host:port");
            }
        }

        /** The port a database's group uses on a node whose base port is {@code base}: distinct per group name. */
        public static int portOffset(String groupName) {
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(groupName.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return (int) (crc.getValue() % 50);
        }

        @Override
        public String toString() {
            return "Group[listen=" + listenHost + ":" + listenPort + ", members=" + members + ", secret="
                    + (secret == null ? "(none)" : "****") + ", fsync=" + fsync + ", appendTimeout=" + appendTimeout
                    + ", retentionBytes=" + retentionBytes + ", retentionAge=" + retentionAge + "]";
        }
    }

    /** The effective configuration, secrets masked, one line. */
    public String describe() {
        return "node=" + node + ", dataDir=" + dataDir + ", " + postgres + ", " + group + ", helpers=" + helpers
                + ", holdAfterRaces=" + holdAfterRaces + ", holdTimeout=" + holdTimeout.toMillis() + "ms"
                + ", mode=" + mode.name().toLowerCase() + ", requestTimeout=" + requestTimeout
                + (faultControl == null ? "" : ", testing.faultControl=" + faultControl);
    }
}
