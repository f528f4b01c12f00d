package io.chorus.coordinator.cli;

import io.chorus.gcs.ArbitratorMain;
import io.chorus.gcs.GroupConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code chorus arbitrator}: runs a voting group member with no database (see {@link ArbitratorMain}). */
@Command(name = "arbitrator", mixinStandardHelpOptions = true,
        description = "Run a voting group member without a database (a third vote for two data nodes).")
public final class ArbitratorCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", description = "properties file (keys: group, node, members, "
            + "data-dir, identity, protocol-version, secret-file, fsync); or give the same settings as flags")
    Path config;

    @Option(names = "--group", description = "group name") String group;
    @Option(names = "--node", description = "this member's node id") String node;
    @Option(names = "--members", description = "id=host:port,... (all members, this one included)") String members;
    @Option(names = "--data-dir", description = "where the log is kept") String dataDir;
    @Option(names = "--identity", description = "group identity (default: adopt the group's)") String identity;
    @Option(names = "--protocol-version", description = "default: this build's, "
            + io.chorus.gcs.GroupConfig.PROTOCOL_VERSION + " (every member must speak the same)") String protocolVersion;
    @Option(names = "--secret-file", description = "file holding the shared secret") String secretFile;
    @Option(names = "--no-fsync", description = "do not force the log to disk (tests only)") boolean noFsync;

    @Override
    public Integer call() throws Exception {
        GroupConfig cfg = config != null ? ArbitratorMain.load(config) : ArbitratorMain.config(flags());
        return ArbitratorMain.run(cfg);
    }

    private Map<String, String> flags() {
        Map<String, String> m = new HashMap<>();
        put(m, "group", group);
        put(m, "node", node);
        put(m, "members", members);
        put(m, "data-dir", dataDir);
        put(m, "identity", identity);
        put(m, "protocol-version", protocolVersion);
        put(m, "secret-file", secretFile);
        if (noFsync) {
            m.put("fsync", "false");
        }
        return m;
    }

    private static void put(Map<String, String> m, String key, String value) {
        if (value != null) {
            m.put(key, value);
        }
    }
}
