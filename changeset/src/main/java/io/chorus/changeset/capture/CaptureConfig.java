package io.chorus.changeset.capture;

import io.chorus.changeset.NodeId;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What {@link SlotCapture} captures and how. Validated on construction, immutable.
 *
 * @param jdbcUrl             JDBC URL of the captured database (a user with REPLICATION; may carry user/password)
 * @param database            the database name; must be the URL's database
 * @param node                this node's id, the origin part of every GTID
 * @param slotName            logical slot; null = {@link #defaultSlotName(String) chorus_&lt;db&gt;}
 * @param publication         publication, FOR ALL TABLES with publish_via_partition_root; default {@value #DEFAULT_PUBLICATION}
 * @param helperOriginPrefix  replication origins whose name starts with it are helper (applier) origins; default
 *                            {@value #DEFAULT_HELPER_PREFIX}
 * @param spillThresholdBytes a transaction larger than this is assembled on disk under {@code workDir}; default 64 MiB
 * @param workDir             folder of {@code capture.state} (confirmed position and deps) and spill files
 * @param slotMode            create the slot when missing (default), require it, or use a temporary slot
 */
public record CaptureConfig(String jdbcUrl, String database, NodeId node, String slotName, String publication,
        String helperOriginPrefix, long spillThresholdBytes, Path workDir, SlotMode slotMode) {

    public static final String DEFAULT_PUBLICATION = "chorus";
    public static final String DEFAULT_HELPER_PREFIX = "chorus_h";
    public static final long DEFAULT_SPILL_THRESHOLD = 64L << 20;
    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    /** What to do about the slot at start. */
    public enum SlotMode {
        /** Create a permanent slot when it does not exist (the sidecar). */
        CREATE_IF_MISSING,
        /** Refuse to start when the slot does not exist. */
        EXISTING,
        /**
         * A temporary slot on the replication connection, dropped by the server when it closes: sees only
         * transactions committed after start, no state file, and a lost connection ends capture (no resume).
         */
        TEMPORARY
    }

    public CaptureConfig {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(workDir, "workDir");
        slotName = slotName == null ? defaultSlotName(database) : slotName;
        publication = publication == null ? DEFAULT_PUBLICATION : publication;
        helperOriginPrefix = helperOriginPrefix == null ? DEFAULT_HELPER_PREFIX : helperOriginPrefix;
        slotMode = slotMode == null ? SlotMode.CREATE_IF_MISSING : slotMode;
        require(NAME.matcher(slotName).matches(), "slotName '" + slotName
                + "' is not a valid slot name: use 1-63 characters of a-z, 0-9 and '_'");
        require(NAME.matcher(publication).matches(), "publication '" + publication
                + "' must be a lower-case identifier (a-z, 0-9, '_')");
        require(!helperOriginPrefix.isEmpty(), "helperOriginPrefix must not be empty");
        require(spillThresholdBytes > 0, "spillThresholdBytes must be > 0, got " + spillThresholdBytes);
    }

    /** The configuration with the default slot mode ({@link SlotMode#CREATE_IF_MISSING}). */
    public CaptureConfig(String jdbcUrl, String database, NodeId node, String slotName, String publication,
            String helperOriginPrefix, long spillThresholdBytes, Path workDir) {
        this(jdbcUrl, database, node, slotName, publication, helperOriginPrefix, spillThresholdBytes, workDir,
                SlotMode.CREATE_IF_MISSING);
    }

    /** Defaults for everything but the database, the node and the work folder. */
    public static CaptureConfig of(String jdbcUrl, String database, NodeId node, Path workDir) {
        return new CaptureConfig(jdbcUrl, database, node, null, null, null, DEFAULT_SPILL_THRESHOLD, workDir);
    }

    public CaptureConfig withSlot(String name, SlotMode mode) {
        return new CaptureConfig(jdbcUrl, database, node, name, publication, helperOriginPrefix, spillThresholdBytes,
                workDir, mode);
    }

    public CaptureConfig withSpillThreshold(long bytes) {
        return new CaptureConfig(jdbcUrl, database, node, slotName, publication, helperOriginPrefix, bytes, workDir, slotMode);
    }

    /** {@code chorus_<db>}, with characters a slot name cannot hold replaced by '_' and cut to 63. */
    public static String defaultSlotName(String database) {
        String s = "chorus_" + database.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        return s.length() > 63 ? s.substring(0, 63) : s;
    }

    /** The effective configuration for the log, the password masked. */
    public String describe() {
        return "capture{url=" + jdbcUrl.replaceAll("(?i)(password=)[^&]*", "$1***") + ", database=" + database + ", node="
                + node + ", slot=" + slotName + " (" + slotMode + "), publication=" + publication + ", helperOriginPrefix="
                + helperOriginPrefix + ", spillThresholdBytes=" + spillThresholdBytes + ", workDir=" + workDir + "}";
    }

    @Override
    public String toString() {
        return describe();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
