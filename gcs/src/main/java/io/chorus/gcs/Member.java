package io.chorus.gcs;

import io.chorus.changeset.NodeId;
import java.util.Objects;

/**
 * One member of a group's static member list: its node id and the TCP endpoint it listens on. With
 * {@link Transport#IN_JVM} the endpoint is ignored.
 */
public record Member(NodeId id, String host, int port) {

    public Member {
        Objects.requireNonNull(id, "member id");
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("member " + id + ": host is empty; give a host name or address");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("member " + id + ": port " + port + " is outside 1..65535");
        }
    }

    /** Parses {@code id=host:port}, e.g. {@code node1=10.0.0.5:7800}. */
    public static Member parse(String text) {
        int eq = text.indexOf('=');
        int colon = text.lastIndexOf(':');
        if (eq <= 0 || colon <= eq + 1 || colon == text.length() - 1) {
            throw new IllegalArgumentException("member '" + text + "' is not of the form id=host:port (e.g. node1=10.0.0.5:7800)");
        }
        try {
            return new Member(NodeId.of(text.substring(0, eq).trim()), text.substring(eq + 1, colon).trim(),
                    Integer.parseInt(text.substring(colon + 1).trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("member '" + text + "': the port is not a number", e);
        }
    }

    /** The endpoint in JGroups' {@code host[port]} notation. */
    String endpoint() {
        return host + "[" + port + "]";
    }

    @Override
    public String toString() {
        return id + "=" + host + ":" + port;
    }
}
