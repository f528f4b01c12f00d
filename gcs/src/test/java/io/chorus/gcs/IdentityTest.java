package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A member that may not create an identity waits alone and adopts (and stores) the identity of the group it meets. */
class IdentityTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void nonBootstrapMemberAdoptsTheIdentityOfTheGroupItMeets() throws Exception {
        UUID identity = UUID.randomUUID();
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 2, b -> b)) {
            GroupConfig waiting = GroupConfig.builder(c.name, TestCluster.id(2), dir.resolve("n2"))
                    .transport(Transport.IN_JVM).members(c.members).fsync(false).createsIdentity(false).build();
            Group n2 = Group.join(waiting, new RecordingListener(), Gsn.NONE);
            c.groups.put(TestCluster.id(2), n2);
            assertThat(n2.groupIdentity()).isEmpty();
            assertThat(n2.isPrimary()).isFalse();

            GroupConfig bootstrap = GroupConfig.builder(c.name, TestCluster.id(1), dir.resolve("n1"))
                    .transport(Transport.IN_JVM).members(c.members).fsync(false).groupIdentity(identity).build();
            c.groups.put(TestCluster.id(1), Group.join(bootstrap, new RecordingListener(), Gsn.NONE));
            Conditions.await("n2 adopted the identity and stored it", Duration.ofSeconds(30),
                    () -> n2.groupIdentity().equals(Optional.of(identity))
                            && Files.exists(IdentityFile.path(waiting)), () -> n2.membership().toString());
            assertThat(Files.readString(IdentityFile.path(waiting)).trim()).isEqualTo(identity.toString());
            Conditions.await("both primary", Duration.ofSeconds(30),
                    () -> n2.isPrimary() && c.group(1).isPrimary(), c::describe);
        }
    }
}
