package io.chorus.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL server for tests, the demo and benchmarks: unpacked embedded binaries (default major 17, 15-18
 * selectable), a fresh cluster in a temporary folder, listening on a free loopback port, configured for logical
 * replication (wal_level=logical, track_commit_timestamp=on, plenty of slots and senders).
 *
 * <p>The server runs as a child process of this JVM and is always stopped: by {@link #close()}, and by a shutdown hook
 * if the JVM exits first. {@link #restart}, {@link #stop} and {@link #start} keep the data folder and port, for tests
 * that restart or crash PostgreSQL. Several servers may run at once. Thread-safe.
 *
 * <p>The major version comes from {@link Builder#version(int)}, else the system property {@code chorus.pg.version}, else
 * the build's default. With the system property or environment variable {@code CHORUS_PG_URL} (a JDBC URL of an
 * external server with a superuser) no server is started: each instance gets a fresh database on that server
 * instead, dropped on close; restarts are then refused.
 */
public final class PgServer implements AutoCloseable {
    /** How a server is stopped: {@code fast} (clean, rolls back sessions) or {@code immediate} (crash-like). */
    public enum StopMode { FAST, IMMEDIATE }

    private static final Set<PgServer> RUNNING = ConcurrentHashMap.newKeySet();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (PgServer s : List.copyOf(RUNNING)) {
                s.closeQuietly();
            }
        }, "chorus-pg-shutdown"));
    }

    private final String name;
    private final Path home;
    private final Path dataDir;
    private final Path logFile;
    private final boolean keepData;
    private final int major;
    private final Map<String, String> settings;
    private final String externalUrl;
    private final String externalDatabase;
    private int port;
    private Process process;

    private PgServer(Builder b) {
        this.name = b.name;
        this.keepData = b.keepData;
        this.settings = Map.copyOf(b.settings);
        this.externalUrl = b.externalUrl;
        if (externalUrl != null) {
            this.home = PgBinaries.forMajor(PgBinaries.defaultMajor());
            this.dataDir = null;
            this.logFile = null;
            this.major = 0;
            this.externalDatabase = "chorus_" + name.replaceAll("[^a-z0-9_]", "_") + "_" + Long.toHexString(System.nanoTime());
            return;
        }
        this.externalDatabase = null;
        this.major = b.major;
        this.home = PgBinaries.forMajor(major);
        try {
            this.dataDir = b.dataDir != null ? b.dataDir : RunAs.tempDirectory("chorus-pg-" + name + "-").resolve("data");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a folder for PostgreSQL " + name, e);
        }
        this.logFile = dataDir.resolveSibling(dataDir.getFileName() + ".log");
        this.port = b.port;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts a server with the defaults. */
    public static PgServer start(String name) {
        return builder().name(name).start();
    }

    private PgServer startNow() {
        if (externalUrl != null) {
            try (Connection c = DriverManager.getConnection(externalUrl); Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE " + externalDatabase);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot create test database on external server " + externalUrl + ": " + e.getMessage(), e);
            }
            RUNNING.add(this);
            return this;
        }
        if (!Files.exists(dataDir.resolve("PG_VERSION"))) {
            initdb();
        }
        start();
        return this;
    }

    private void initdb() {
        RunAs.prepare(dataDir.getParent());
        run(List.of(bin("initdb").toString(), "-D", dataDir.toString(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--no-locale", "--no-sync"), "initdb");
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("listen_addresses", "'127.0.0.1'");
        conf.put("unix_socket_directories", "''");
        conf.put("wal_level", "logical");
        conf.put("track_commit_timestamp", "on");
        conf.put("max_replication_slots", "32");
        conf.put("max_wal_senders", "32");
        conf.put("max_worker_processes", "24");
        conf.put("max_logical_replication_workers", "8");
        conf.put("max_connections", "200");
        conf.put("shared_buffers", "'128MB'");
        // test servers trade crash durability of the OS for speed; a PostgreSQL crash (immediate stop) is still safe
        conf.put("fsync", "off");
        conf.put("full_page_writes", "off");
        conf.put("wal_sender_timeout", "'60s'");
        conf.put("log_min_messages", "warning");
        conf.put("log_line_prefix", "'%m [%p] %d '");
        settings.forEach(conf::put);
        StringBuilder sb = new StringBuilder("\n# chorus testkit\n");
        conf.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
        try {
            Files.writeString(dataDir.resolve("postgresql.conf"), sb.toString(), StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.APPEND);
            Files.writeString(dataDir.resolve("pg_hba.conf"),
                    "host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the configuration of PostgreSQL " + name, e);
        }
    }

    /** Starts (again) a stopped server on the same data folder and port. */
    public synchronized void start() {
        requireEmbedded("start");
        if (process != null && process.isAlive()) {
            return;
        }
        int attempts = port == 0 ? 3 : 1;
        for (int attempt = 1; ; attempt++) {
            if (port == 0 || attempt > 1) {
                port = freePort();
            }
            try {
                launch();
                RUNNING.add(this);
                return;
            } catch (IllegalStateException e) {
                if (attempt >= attempts) {
                    throw e;
                }
            }
        }
    }

    private void launch() {
        ProcessBuilder pb = new ProcessBuilder(RunAs.wrap(List.of(bin("postgres").toString(), "-D", dataDir.toString(), "-p", Integer.toString(port))))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        pb.environment().put("LC_ALL", "C");
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start PostgreSQL " + name + " from " + home, e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("PostgreSQL " + name + " exited during start-up (exit " + process.exitValue()
                        + "); its log " + logFile + " ends with:\n" + tail(20));
            }
            try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), connectionProperties(5))) {
                return;
            } catch (SQLException e) {
                last = e;
            }
            try {
                process.waitFor(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for PostgreSQL " + name + " to accept connections", e);
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException("PostgreSQL " + name + " did not accept connections on port " + port + " within "
                + START_TIMEOUT.toSeconds() + " s (last error: " + (last == null ? "none" : last.getMessage()) + "); log:\n" + tail(20));
    }

    /** Stops the server, keeping its data folder. {@code IMMEDIATE} is a crash: recovery runs at the next start. */
    public synchronized void stop(StopMode mode) {
        requireEmbedded("stop");
        if (process == null || !process.isAlive()) {
            return;
        }
        run(List.of(bin("pg_ctl").toString(), "stop", "-D", dataDir.toString(), "-m", mode.name().toLowerCase(), "-w", "-t", "60"),
                "pg_ctl stop");
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        RUNNING.remove(this);
    }

    /** Stops and starts again on the same port; the data is kept. */
    public void restart(StopMode mode) {
        stop(mode);
        start();
    }

    public boolean isRunning() {
        return externalUrl != null || (process != null && process.isAlive());
    }

    public String name() {
        return name;
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return externalUrl != null ? -1 : port;
    }

    /** The server's major version (0 for an external server). */
    public int majorVersion() {
        return major;
    }

    /** The data folder (null for an external server). */
    public Path dataDir() {
        return dataDir;
    }

    /** The folder with bin/ of this server's PostgreSQL (also for pg_recvlogical, pgbench, psql). */
    public Path home() {
        return home;
    }

    /** JDBC URL of the {@code postgres} database (or the instance's own database on an external server). */
    public String jdbcUrl() {
        return jdbcUrl(externalUrl != null ? externalDatabase : "postgres");
    }

    /** JDBC URL of a database of this server, user postgres. */
    public String jdbcUrl(String database) {
        if (externalUrl != null) {
            return externalUrl.replaceFirst("(jdbc:postgresql://[^/]+/)[^?]*", "$1" + database);
        }
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=postgres";
    }

    /** A libpq URI ({@code postgresql://127.0.0.1:port/db}) for psql. */
    public String uri(String database) {
        return "postgresql://postgres@127.0.0.1:" + port + "/" + database;
    }

    public Connection connect() throws SQLException {
        return connect(externalUrl != null ? externalDatabase : "postgres");
    }

    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), connectionProperties(30));
    }

    /** Creates a database (it must not exist yet) and returns its name. */
    public String createDatabase(String database) throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE \"" + database.replace("\"", "\"\"") + "\"");
        }
        return database;
    }

    /** The last lines of the server log (for failure messages). */
    public String tail(int lines) {
        if (logFile == null || !Files.exists(logFile)) {
            return "(no log)";
        }
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    @Override
    public synchronized void close() {
        RUNNING.remove(this);
        if (externalUrl != null) {
            try (Connection c = DriverManager.getConnection(externalUrl); Statement st = c.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS " + externalDatabase + " WITH (FORCE)");
            } catch (SQLException ignored) {
                // the external server keeps the database; it has a unique, recognisable name
            }
            return;
        }
        try {
            if (process != null && process.isAlive()) {
                stop(StopMode.IMMEDIATE);
            }
        } finally {
            if (process != null && process.isAlive()) {
                process.destroyForcibly();
            }
            if (!keepData) {
                PgBinaries.deleteTree(dataDir.getParent().getFileName().toString().startsWith("chorus-pg-")
                        ? dataDir.getParent() : dataDir);
            }
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (RuntimeException ignored) {
            // JVM is exiting
        }
    }

    private void requireEmbedded(String what) {
        if (externalUrl != null) {
            throw new UnsupportedOperationException("cannot " + what + " an external server (" + externalUrl
                    + "); unset CHORUS_PG_URL to run this test on embedded PostgreSQL");
        }
    }

    private Path bin(String program) {
        return home.resolve("bin").resolve(program);
    }

    private static Properties connectionProperties(int connectTimeoutSeconds) {
        Properties p = new Properties();
        p.setProperty("connectTimeout", Integer.toString(connectTimeoutSeconds));
        return p;
    }

    private void run(List<String> command, String what) {
        List<String> cmd = new ArrayList<>(RunAs.wrap(command));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("LC_ALL", "C");
        try {
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(what + " for PostgreSQL " + name + " did not finish within 120 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(what + " for PostgreSQL " + name + " failed (exit " + p.exitValue() + "):\n" + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(what + " for PostgreSQL " + name + " could not run", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during " + what, e);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    /** Options of a server; {@link #start()} starts it. */
    public static final class Builder {
        private String name = "pg";
        private int major = Integer.getInteger("chorus.pg.version", PgBinaries.defaultMajor());
        private final Map<String, String> settings = new LinkedHashMap<>();
        private Path dataDir;
        private boolean keepData;
        private int port;
        private String externalUrl = firstNonBlank(System.getProperty("chorus.pg.url"), System.getenv("CHORUS_PG_URL"));

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** PostgreSQL major version, 15 to 18. */
        public Builder version(int major) {
            this.major = major;
            return this;
        }

        /** A postgresql.conf setting, written verbatim ({@code setting("work_mem", "'64MB'")}). */
        public Builder setting(String key, String value) {
            settings.put(key, value);
            return this;
        }

        /** Uses (and keeps) this data folder; an existing cluster there is started as it is. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            this.keepData = true;
            return this;
        }

        public Builder keepData(boolean keep) {
            this.keepData = keep;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Forces embedded mode even when CHORUS_PG_URL is set (for tests that restart servers). */
        public Builder embedded() {
            this.externalUrl = null;
            return this;
        }

        public PgServer start() {
            return new PgServer(this).startNow();
        }

        private static String firstNonBlank(String a, String b) {
            if (a != null && !a.isBlank()) {
                return a;
            }
            return b != null && !b.isBlank() ? b : null;
        }
    }
}
