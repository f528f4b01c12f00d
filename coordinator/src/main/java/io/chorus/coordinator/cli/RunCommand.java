package io.chorus.coordinator.cli;

import io.chorus.coordinator.config.ConfigLoader;
import io.chorus.coordinator.config.NodeConfig;
import io.chorus.coordinator.sidecar.Sidecar;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.logging.log4j.LogManager;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code chorus run}: the sidecar beside one PostgreSQL instance. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the sidecar beside a PostgreSQL instance (serves every database listed in the configuration).")
public final class RunCommand implements Callable<Integer> {
    /** Exit status when {@code --force-bootstrap} was refused or failed. */
    static final int FORCE_REFUSED = 1;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "node configuration (YAML)")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "override a configuration key, e.g. --set postgres.port=5433 (secrets: use files or CHORUS_PG_PASSWORD)")
    List<String> overrides = List.of();

    @Option(names = "--force-bootstrap",
            description = "after a majority of the group's voters was lost for good: each enabled database whose group "
                    + "has no primary component within --force-bootstrap-wait of its start restarts the group from "
                    + "this node alone (it becomes the only voter; the missing voters come back only by a full "
                    + "transfer; what they ordered beyond this node's log is lost). Refused, and the sidecar exits "
                    + "with status 1 saying why, while another present node is ahead (run it there). See "
                    + "SELECT * FROM chorus.bootstrap_plan() first")
    boolean forceBootstrap;

    @Option(names = "--force-bootstrap-wait", paramLabel = "SECONDS", defaultValue = "30",
            description = "with --force-bootstrap: how long a database waits for a primary component before it "
                    + "forces one (default: ${DEFAULT-VALUE})")
    int forceBootstrapWait;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(config)) {
            throw new IllegalArgumentException("configuration file " + config + " does not exist");
        }
        Map<String, String> set = new LinkedHashMap<>();
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set takes KEY=VALUE, got '" + o + "'");
            }
            if (o.toLowerCase().contains("password") || o.toLowerCase().contains("secret")) {
                throw new IllegalArgumentException("secrets are not accepted on the command line; use passwordFile/secretFile or the environment");
            }
            set.put(o.substring(0, eq), o.substring(eq + 1));
        }
        NodeConfig cfg = ConfigLoader.load(config, set, System.getenv());
        if (forceBootstrapWait < 0) {
            throw new IllegalArgumentException("--force-bootstrap-wait takes seconds >= 0, got " + forceBootstrapWait);
        }
        Sidecar sidecar = new Sidecar(cfg, forceBootstrap ? Duration.ofSeconds(forceBootstrapWait) : null);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LogManager.getLogger(RunCommand.class).info("JVM shutting down (signal or exit): stopping the sidecar");
            sidecar.close();
        }, "chorus-shutdown"));
        exitWithParent(sidecar);
        sidecar.start();
        sidecar.await();
        if (sidecar.failure() != null) {
            System.err.println("chorus run: " + sidecar.failure());
            return FORCE_REFUSED;
        }
        return 0;
    }

    /** A sidecar started by a harness ({@code CHORUS_EXIT_WITH_PID}) stops when that process ends, however it ends. */
    private static void exitWithParent(Sidecar sidecar) {
        String pid = System.getenv("CHORUS_EXIT_WITH_PID");
        if (pid == null || pid.isBlank()) {
            return;
        }
        ProcessHandle.of(Long.parseLong(pid.trim())).ifPresentOrElse(
                parent -> parent.onExit().thenRun(() -> {
                    LogManager.getLogger(RunCommand.class).info("process {} that started this sidecar ended: stopping", pid);
                    sidecar.close();
                    Runtime.getRuntime().halt(0);
                }),
                () -> {
                    throw new IllegalStateException("the process " + pid + " that started this sidecar is gone");
                });
    }
}
