package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.Gsn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A member with another group identity, protocol version or credential is refused with a readable message. */
class RefusalTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String SECRET = "correct horse battery staple";

    @TempDir
    Path dir;

    /** Starts n1 and n2 with {@code good}, then n3 with {@code bad}; returns the refusal. */
    private GcsException refusal(Transport t, UnaryOperator<GroupConfig.Builder> good,
                                 UnaryOperator<GroupConfig.Builder> bad) throws Exception {
        UnaryOperator<GroupConfig.Builder> base = b -> b.appendTimeout(Duration.ofSeconds(20));
        try (TestCluster c = new TestCluster(dir, t, 3, b -> good.apply(base.apply(b)))) {
            c.start(TestCluster.id(1), Gsn.NONE);
            c.start(TestCluster.id(2), Gsn.NONE);
            c.awaitPrimary(WAIT);
            c.group(1).append(1, new byte[] {1}).get(20, TimeUnit.SECONDS);
            GroupConfig cfg = bad.apply(GroupConfig.builder(c.name, TestCluster.id(3), dir.resolve("n3"))
                    .transport(t).members(c.members).fsync(false)).build();
            try {
                Group g = Group.join(cfg, new RecordingListener(), Gsn.NONE);
                g.close();
                throw new AssertionError("n3 was admitted; membership of n1: " + c.group(1).membership());
            } catch (GcsException e) {
                assertThat(c.group(1).membership().present()).as("the group is unchanged")
                        .containsExactly(TestCluster.id(1), TestCluster.id(2));
                return e;
            }
        }
    }

    @Test
    @Timeout(120)
    void anotherGroupIdentityIsRefused() throws Exception {
        UUID mine = UUID.fromString("11111111-1111-1111-1111-111111111111");
        UUID other = UUID.fromString("22222222-2222-2222-2222-222222222222");
        GcsException e = refusal(Transport.IN_JVM, b -> b.groupIdentity(mine), b -> b.groupIdentity(other));
        assertThat(e.kind()).isEqualTo(GcsException.Kind.REFUSED);
        assertThat(e).hasMessageContaining("member n3 was refused by n1")
                .hasMessageContaining("group identity differs")
                .hasMessageContaining("n3 belongs to group " + other)
                .hasMessageContaining("this group is " + mine);
    }

    @Test
    @Timeout(120)
    void anotherProtocolVersionIsRefused() throws Exception {
        GcsException e = refusal(Transport.IN_JVM, b -> b, b -> b.protocolVersion(GroupConfig.PROTOCOL_VERSION - 1));
        assertThat(e.kind()).isEqualTo(GcsException.Kind.REFUSED);
        assertThat(e).hasMessageContaining("protocol version differs: n3 speaks version " + (GroupConfig.PROTOCOL_VERSION - 1)
                + ", the group speaks version " + GroupConfig.PROTOCOL_VERSION);
    }

    @Test
    @Timeout(120)
    void missingCredentialIsRefused() throws Exception {
        GcsException e = refusal(Transport.TCP, b -> b.sharedSecret(SECRET), b -> b);
        assertThat(e.kind()).isEqualTo(GcsException.Kind.REFUSED);
        assertThat(e).hasMessageContaining("presents no credential but the group requires one");
    }

    @Test
    @Timeout(120)
    void wrongCredentialIsRefused() throws Exception {
        GcsException e = refusal(Transport.TCP, b -> b.sharedSecret(SECRET),
                b -> b.sharedSecret("another secret of sixteen+ chars"));
        assertThat(e.kind()).isEqualTo(GcsException.Kind.REFUSED);
        assertThat(e).hasMessageContaining("credential does not match (wrong shared secret)");
    }

    @Test
    @Timeout(120)
    void identityStoredInTheDataDirMustMatchTheConfiguration() throws Exception {
        UUID mine = UUID.randomUUID();
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 1, b -> b.groupIdentity(mine))) {
            c.startAll();
            c.close();
            GroupConfig cfg = GroupConfig.builder(c.name, TestCluster.id(1), dir.resolve("n1"))
                    .transport(Transport.IN_JVM).members(c.members).groupIdentity(UUID.randomUUID()).build();
            assertThatThrownBy(() -> Group.join(cfg, new RecordingListener(), Gsn.NONE))
                    .isInstanceOf(GcsException.class)
                    .hasMessageContaining("holds the log of group identity " + mine);
        }
    }
}
