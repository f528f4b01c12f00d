package io.chorus.coordinator.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.NodeId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads {@link NodeConfig} from YAML, then applies overrides ({@code key.path=value}, from the command line and from
 * {@code CHORUS_<KEY_PATH>} environment variables). Unknown keys are rejected with the list of known ones. Secrets
 * are read from files ({@code passwordFile}, {@code secretFile}) or the environment, never from the command line.
 */
public final class ConfigLoader {
    private static final Map<String, Set<String>> KNOWN = Map.of(
            "", Set.of("node", "dataDir", "postgres", "group", "apply", "mode", "requestTimeout", "testing"),
            "postgres", Set.of("host", "port", "user", "passwordFile", "databases"),
            "group", Set.of("listen", "members", "secretFile", "fsync", "appendTimeout", "retentionBytes", "retentionAge"),
            "apply", Set.of("helpers", "holdAfterRaces", "holdTimeout"),
            "testing", Set.of("faultControl"));

    private ConfigLoader() {
    }

    public static NodeConfig load(Path file, Map<String, String> overrides, Map<String, String> env) {
        ObjectNode root;
        try {
            JsonNode tree = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file, StandardCharsets.UTF_8));
            if (tree == null || !tree.isObject()) {
                throw new ChorusException("configuration " + file + " is empty or not a YAML mapping");
            }
            root = (ObjectNode) tree;
        } catch (IOException e) {
            throw new ChorusException("cannot read configuration " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> all = new LinkedHashMap<>();
        env.forEach((k, v) -> {
            if (k.startsWith("CHORUS_CONF_")) {
                all.put(envKey(k.substring("CHORUS_CONF_".length())), v);
            }
        });
        all.putAll(overrides);
        all.forEach((k, v) -> put(root, k, v));
        return build(root, file.toAbsolutePath().getParent(), env);
    }

    /** {@code GROUP_APPEND_TIMEOUT} → {@code group.appendTimeout}. */
    static String envKey(String name) {
        String[] parts = name.toLowerCase().split("__");
        List<String> out = new ArrayList<>();
        for (String p : parts) {
            StringBuilder sb = new StringBuilder();
            boolean up = false;
            for (char c : p.toCharArray()) {
                if (c == '_') {
                    up = true;
                } else {
                    sb.append(up ? Character.toUpperCase(c) : c);
                    up = false;
                }
            }
            out.add(sb.toString());
        }
        return String.join(".", out);
    }

    private static void put(ObjectNode root, String path, String value) {
        String[] parts = path.split("\\.");
        ObjectNode node = root;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            node = child instanceof ObjectNode o ? o : node.putObject(parts[i]);
        }
        node.put(parts[parts.length - 1], value);
    }

    private static NodeConfig build(ObjectNode root, Path base, Map<String, String> env) {
        checkKeys("", root);
        JsonNode pg = section(root, "postgres");
        JsonNode grp = section(root, "group");
        JsonNode apply = root.has("apply") ? section(root, "apply") : null;
        Path dataDir = base.resolve(text(root, "dataDir", "data dir of the sidecar, e.g. dataDir: /var/lib/chorus"));
        NodeId node = root.hasNonNull("node") ? nodeId(text(root, "node", "")) : NodeIdentity.loadOrCreate(dataDir);

        List<String> dbs = new ArrayList<>();
        JsonNode dbNode = pg.get("databases");
        if (dbNode != null && dbNode.isArray()) {
            dbNode.forEach(d -> dbs.add(d.asText()));
        } else if (dbNode != null) {
            for (String d : dbNode.asText().split(",")) {
                dbs.add(d.trim());
            }
        }
        String password = secret(pg, "passwordFile", env.get("CHORUS_PG_PASSWORD"), base);
        NodeConfig.Postgres postgres = new NodeConfig.Postgres(opt(pg, "host", "127.0.0.1"), intOpt(pg, "postgres.port", "port", 5432),
                opt(pg, "user", "postgres"), password, dbs);

        String listen = text(grp, "listen", "this node's group endpoint, e.g. listen: 127.0.0.1:7800");
        int colon = listen.lastIndexOf(':');
        if (colon <= 0) {
            throw new ChorusException("group.listen must be host:port, got '" + listen + "'");
        }
        Map<String, String> members = new LinkedHashMap<>();
        JsonNode m = grp.get("members");
        if (m == null || !m.isObject()) {
            throw new ChorusException("group.members must map every voting member's node id to host:port");
        }
        m.fields().forEachRemaining(e -> members.put(nodeId(e.getKey()).value(), e.getValue().asText()));
        NodeConfig.Group group = new NodeConfig.Group(listen.substring(0, colon),
                parsePort("group.listen", listen.substring(colon + 1)), members,
                secret(grp, "secretFile", env.get("CHORUS_GROUP_SECRET"), base),
                Boolean.parseBoolean(opt(grp, "fsync", "true")), duration(grp, "group.appendTimeout", "appendTimeout", "30s"),
                Long.parseLong(opt(grp, "retentionBytes", Long.toString(1L << 30))),
                duration(grp, "group.retentionAge", "retentionAge", "24h"));
        if (!members.containsKey(node.value())) {
            throw new ChorusException("group.members does not list this node (" + node + "); add '" + node + ": " + listen + "'");
        }
        String mode = opt(root, "mode", "async").toLowerCase();
        if (!mode.equals("async") && !mode.equals("sync")) {
            throw new ChorusException("mode must be async or sync, got '" + mode + "'");
        }
        JsonNode testing = root.has("testing") ? section(root, "testing") : null;
        Path faultControl = testing == null || !testing.hasNonNull("faultControl") ? null
                : base.resolve(text(testing, "faultControl", "the fault control file, e.g. faultControl: node1.faults"));
        return new NodeConfig(node, dataDir, postgres, group, apply == null ? 4 : intOpt(apply, "apply.helpers", "helpers", 4),
                NodeConfig.Mode.valueOf(mode.toUpperCase()), duration(root, "requestTimeout", "requestTimeout", "60s"),
                faultControl, apply == null ? 2 : intOpt(apply, "apply.holdAfterRaces", "holdAfterRaces", 2),
                apply == null ? Duration.ofMillis(200) : duration(apply, "apply.holdTimeout", "holdTimeout", "200ms"));
    }

    private static void checkKeys(String path, JsonNode node) {
        Set<String> known = KNOWN.get(path);
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                throw new ChorusException("unknown configuration key '" + (path.isEmpty() ? key : path + "." + key)
                        + "'; known keys" + (path.isEmpty() ? "" : " of " + path) + ": " + known.stream().sorted().toList());
            }
            if (KNOWN.containsKey(key) && path.isEmpty()) {
                checkKeys(key, node.get(key));
            }
        }
    }

    private static JsonNode section(JsonNode root, String name) {
        JsonNode n = root.get(name);
        if (n == null || !n.isObject()) {
            throw new ChorusException("configuration section '" + name + "' is missing");
        }
        return n;
    }

    private static String text(JsonNode n, String key, String hint) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull() || v.asText().isBlank()) {
            throw new ChorusException("configuration key '" + key + "' is missing: " + hint);
        }
        return v.asText();
    }

    private static String opt(JsonNode n, String key, String dflt) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    private static int intOpt(JsonNode n, String path, String key, int dflt) {
        String v = opt(n, key, Integer.toString(dflt));
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new ChorusException(path + " must be a whole number, got '" + v + "'");
        }
    }

    private static int parsePort(String path, String v) {
        try {
            int p = Integer.parseInt(v.trim());
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            throw new ChorusException(path + " port must be 1-65535, got '" + v + "'");
        }
    }

    private static Duration duration(JsonNode n, String path, String key, String dflt) {
        String v = opt(n, key, dflt).trim();
        try {
            return parseDuration(v);
        } catch (DateTimeParseException | NumberFormatException e) {
            throw new ChorusException(path + " must be a duration like 500ms, 30s, 5m or 24h, got '" + v + "'");
        }
    }

    public static Duration parseDuration(String v) {
        v = v.trim().toLowerCase();
        if (v.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        }
        long n = Long.parseLong(v.substring(0, v.length() - 1));
        return switch (v.charAt(v.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            case 'd' -> Duration.ofDays(n);
            default -> Duration.parse(v);
        };
    }

    private static String secret(JsonNode n, String key, String fromEnv, Path base) {
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return fromEnv;
        }
        JsonNode f = n.get(key);
        if (f == null || f.isNull()) {
            return null;
        }
        Path p = base.resolve(f.asText());
        try {
            return Files.readString(p, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new ChorusException("cannot read " + key + " " + p + ": " + e.getMessage(), e);
        }
    }

    private static NodeId nodeId(String v) {
        try {
            return NodeId.of(v);
        } catch (IllegalArgumentException e) {
            throw new ChorusException(e.getMessage(), e);
        }
    }
}
