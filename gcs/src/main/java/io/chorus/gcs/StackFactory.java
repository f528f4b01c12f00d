package io.chorus.gcs;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.jgroups.JChannel;
import org.jgroups.protocols.SYM_ENCRYPT;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.stack.ProtocolStack;

/**
 * Builds a member's channel from the XML stacks in this package ({@code stack-tcp.xml}, {@code stack-in-jvm.xml}):
 * fills in the member's {@code ${chorus.*}} placeholders (JGroups' own substitution reads system properties, which
 * several members in one JVM cannot share), inserts the {@link JoinGuard} below GMS and, with a shared secret,
 * SYM_ENCRYPT with a key derived from the secret below NAKACK2 (protocols that need keys are inserted in code: a key
 * has no place in an XML file).
 */
final class StackFactory {

    private StackFactory() {
    }

    static JChannel create(GroupConfig cfg, Credentials credentials) throws Exception {
        String resource = cfg.transport() == Transport.TCP ? "stack-tcp.xml" : "stack-in-jvm.xml";
        String xml = substitute(load(resource), placeholders(cfg));
        JChannel ch = new JChannel(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        ch.name(cfg.self().value());
        ProtocolStack stack = ch.getProtocolStack();
        JoinGuard guard = new JoinGuard().credentials(credentials);
        if (credentials.hasSecret()) {
            SYM_ENCRYPT encrypt = new SYM_ENCRYPT();
            encrypt.setSecretKey(credentials.encryptionKey());
            stack.insertProtocol(encrypt, ProtocolStack.Position.BELOW, NAKACK2.class);
            encrypt.init();
            stack.insertProtocol(guard.below(encrypt), ProtocolStack.Position.BELOW, SYM_ENCRYPT.class);
        } else {
            stack.insertProtocol(guard, ProtocolStack.Position.BELOW, GMS.class);
        }
        guard.init();
        return ch;
    }

    static Map<String, String> placeholders(GroupConfig cfg) {
        Map<String, String> p = new LinkedHashMap<>();
        Member self = cfg.selfMember();
        p.put("bind_addr", self.host());
        p.put("bind_port", Integer.toString(self.port()));
        p.put("initial_hosts", cfg.members().stream().map(Member::endpoint).collect(Collectors.joining(",")));
        p.put("raft_id", cfg.self().value());
        p.put("raft_members", cfg.members().stream()
                .filter(m -> cfg.voting() || !m.id().equals(cfg.self()))
                .map(m -> m.id().value()).collect(Collectors.joining(",")));
        p.put("log_dir", cfg.dataDir().toAbsolutePath().toString());
        p.put("log_prefix", cfg.groupName());
        p.put("fsync", Boolean.toString(cfg.fsync()));
        p.put("max_log_size", Long.toString(cfg.retentionBytes()));
        return p;
    }

    static String substitute(String xml, Map<String, String> values) {
        String out = xml;
        for (Map.Entry<String, String> e : values.entrySet()) {
            out = out.replace("${chorus." + e.getKey() + "}", xmlEscape(e.getValue()));
        }
        return out;
    }

    private static String xmlEscape(String s) {
        return s.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;");
    }

    private static String load(String name) {
        try (InputStream in = StackFactory.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("stack resource " + name + " is missing from the gcs jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read stack resource " + name, e);
        }
    }
}
