package ftlab.client.local;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.reflect.TypeToken;
import ftlab.client.Coordinators;
import ftlab.client.Poll;
import ftlab.proto.ClusterView;
import ftlab.proto.CountPrimes;
import ftlab.proto.NodeState;
import ftlab.proto.SubmitRequest;
import ftlab.proto.Task;
import ftlab.security.Identity;
import ftlab.security.LabCertificates;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.StatusRuntimeException;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A whole ftlab cluster as local background processes: start, list, restart and stop them.
 *
 * <p>What it started is written to {@code cluster.json} in its state directory (by default {@code
 * ~/.ftlab/local}), with one log file per process under {@code logs/}. That file is what lets a
 * later {@code ftlab local ps}, {@code ftlab watch} or {@code ftlab local down} find the cluster.
 * Processes are identified by PID and start time, so a PID reused by an unrelated process is never
 * signalled.
 */
public final class LocalCluster {
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

  /**
   * JVM flags for every process: a small heap and the serial collector, so that seven JVMs fit
   * comfortably on a 2-core laptop (a node needs about 60 MB of heap at most under load).
   */
  private static final List<String> JVM_FLAGS =
      List.of("-XX:+UseSerialGC", "-Xms16m", "-Xmx128m", "-XX:+ExitOnOutOfMemoryError");

  private final Path stateDir;
  private final Jars jars;

  /**
   * @param stateDir where cluster.json and the logs go
   * @param jars where the node and coordinator fat jars are
   */
  public LocalCluster(Path stateDir, Jars jars) {
    this.stateDir = stateDir;
    this.jars = jars;
  }

  /** Options for every coordinator started by {@link #up} from now on, after the common ones. */
  private List<String> coordinatorOptions = List.of();

  /**
   * Gives every coordinator that {@link #up} starts these options, e.g. {@code
   * "--client-rate-limit", "0"} for a benchmark that measures the coordinator itself.
   */
  public LocalCluster coordinatorOptions(String... options) {
    this.coordinatorOptions = List.of(options);
    return this;
  }

  /** {@code $FTLAB_LOCAL_DIR}, or {@code ~/.ftlab/local}. */
  public static Path defaultStateDir() {
    String env = System.getenv("FTLAB_LOCAL_DIR");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return Path.of(System.getProperty("user.home"), ".ftlab", "local");
  }

  public Path stateDir() {
    return stateDir;
  }

  public Path logFile(String name) {
    return stateDir.resolve("logs").resolve(name + ".log");
  }

  private Path stateFile() {
    return stateDir.resolve("cluster.json");
  }

  /** The processes recorded in the state file; empty when no cluster was started. */
  public List<Member> members() {
    Path file = stateFile();
    if (!Files.exists(file)) {
      return List.of();
    }
    try {
      List<Member> members =
          GSON.fromJson(
              Files.readString(file, StandardCharsets.UTF_8),
              new TypeToken<List<Member>>() {}.getType());
      return members == null ? List.of() : members;
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(
          "cannot read " + file + " (" + e.getMessage() + "); delete it if no cluster is running",
          e);
    }
  }

  private void save(List<Member> members) {
    try {
      Files.createDirectories(stateDir);
      Path tmp = stateDir.resolve("cluster.json.tmp");
      Files.writeString(tmp, GSON.toJson(members), StandardCharsets.UTF_8);
      Files.move(
          tmp, stateFile(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + stateFile(), e);
    }
  }

  /** Whether any recorded process is still running (or paused). */
  public boolean isRunning() {
    return members().stream()
        .anyMatch(m -> MemberProcess.status(m) != MemberProcess.ProcessStatus.EXITED);
  }

  /**
   * How to reach the recorded cluster's coordinators as {@code name} ("client", "admin"): mutual
   * TLS with its certificates if it runs with them, else plaintext.
   */
  public ChannelCredentials credentials(String name) {
    java.util.Optional<Path> dir = tlsDir();
    if (dir.isEmpty()) {
      return InsecureChannelCredentials.create();
    }
    try {
      return TlsFiles.read(dir.get(), name).channel(Role.COORDINATOR);
    } catch (IOException e) {
      throw new UncheckedIOException("the local cluster's certificates: " + e.getMessage(), e);
    }
  }

  /** Addresses of the recorded coordinators, for {@code watch} and {@code status}. */
  public List<String> coordinatorAddresses() {
    return members().stream()
        .filter(m -> m.role().equals(Member.COORDINATOR))
        .map(Member::address)
        .toList();
  }

  /**
   * Starts every process of the layout, then waits until the cluster answers: every coordinator
   * sees every node ALIVE and answers a task. On failure, stops what it started.
   *
   * @param progress receives a line now and then while waiting
   */
  public List<Member> up(LocalLayout layout, Duration timeout, Consumer<String> progress)
      throws InterruptedException {
    return up(layout, false, timeout, progress);
  }

  /** The folder of the cluster's certificates, with {@code up --tls}: {@code DIR/tls}. */
  public Path tlsFolder() {
    return stateDir.resolve("tls");
  }

  /**
   * The certificates the recorded cluster runs with (its coordinators' {@code --tls-dir}), or empty
   * if it runs plaintext (or none is recorded).
   */
  public java.util.Optional<Path> tlsDir() {
    return members().stream()
        .filter(m -> m.role().equals(Member.COORDINATOR))
        .findFirst()
        .flatMap(
            m -> {
              int i = m.command().indexOf("--tls-dir");
              return i < 0 || i + 1 >= m.command().size()
                  ? java.util.Optional.empty()
                  : java.util.Optional.of(Path.of(m.command().get(i + 1)));
            });
  }

  /**
   * {@link #up(LocalLayout, Duration, Consumer)}, with mutual TLS if {@code tls}: a lab authority
   * and a certificate for every member, the client and the admin in {@link #tlsFolder()} (the
   * authority is kept from an earlier {@code up --tls}, the certificates are made anew).
   */
  public List<Member> up(
      LocalLayout layout, boolean tls, Duration timeout, Consumer<String> progress)
      throws InterruptedException {
    if (isRunning()) {
      throw new IllegalStateException(
          "a local cluster is already running (see 'ftlab local ps'); stop it first with"
              + " 'ftlab local down'");
    }
    List<Integer> ports = new ArrayList<>();
    int http = layout.metrics() ? LocalLayout.HTTP_PORT_OFFSET : 0;
    for (int i = 0; i < layout.coordinators(); i++) {
      ports.add(layout.coordinatorBasePort() + i);
      ports.add(layout.coordinatorBasePort() + i + http);
    }
    for (int i = 0; i < layout.nodes(); i++) {
      ports.add(layout.nodeBasePort() + i);
      ports.add(layout.nodeBasePort() + i + http);
    }
    for (int port : ports) {
      if (!LocalLayout.isFree(port)) {
        throw new IllegalStateException(
            "port "
                + port
                + " on 127.0.0.1 is already in use; choose other ports with --base-port and"
                + " --node-base-port");
      }
    }
    try {
      Files.createDirectories(stateDir.resolve("logs"));
      // a new cluster starts new logs ('start' of one member appends to its log)
      for (int i = 1; i <= layout.coordinators(); i++) {
        Files.deleteIfExists(logFile(layout.coordinatorName(i)));
      }
      for (int i = 1; i <= layout.nodes(); i++) {
        Files.deleteIfExists(logFile(layout.nodeName(i)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + stateDir.resolve("logs"), e);
    }
    if (tls) {
      makeCertificates(layout, progress);
    }
    // Run copies of the jars: rebuilding the checkout while the cluster runs would otherwise
    // replace the jar under the running JVMs, which then fail to load classes.
    Path nodeJar = copyJar(jars.node());
    Path coordinatorJar = copyJar(jars.coordinator());
    String coordinatorList = String.join(",", layout.coordinatorAddresses());
    String interval = Integer.toString(layout.heartbeatIntervalMs());
    List<Member> started = new ArrayList<>();
    try {
      for (int i = 1; i <= layout.coordinators(); i++) {
        int port = layout.coordinatorBasePort() + i - 1;
        String name = layout.coordinatorName(i);
        List<String> cmd = command(coordinatorJar, name, port, interval, layout.metrics());
        if (layout.metrics()) {
          cmd.addAll(List.of("--dashboards", layout.dashboards()));
        }
        if (tls) {
          cmd.addAll(List.of("--tls-dir", tlsFolder().toString()));
        }
        cmd.addAll(coordinatorOptions);
        started.add(launch(new Member(name, Member.COORDINATOR, 0, 0, port, cmd)));
      }
      for (int i = 1; i <= layout.nodes(); i++) {
        int port = layout.nodeBasePort() + i - 1;
        String name = layout.nodeName(i);
        List<String> cmd = command(nodeJar, name, port, interval, layout.metrics());
        cmd.addAll(
            List.of(
                "--advertise-host",
                "127.0.0.1",
                "--coordinators",
                coordinatorList,
                "--capacity",
                Integer.toString(layout.capacity())));
        if (tls) {
          cmd.addAll(List.of("--tls-dir", tlsFolder().toString()));
        }
        started.add(launch(new Member(name, Member.NODE, 0, 0, port, cmd)));
      }
      save(started);
      awaitReady(layout.nodes(), timeout, progress);
      return started;
    } catch (RuntimeException | InterruptedException e) {
      stop(started, Duration.ofSeconds(5));
      save(List.of());
      throw e;
    }
  }

  private void makeCertificates(LocalLayout layout, Consumer<String> progress) {
    try {
      LabCertificates authority = LabCertificates.openOrCreate(tlsFolder(), Duration.ofDays(3650));
      // a new cluster starts with no revocations (a lab that ended without --undo must not keep
      // a node out of the next one)
      Files.deleteIfExists(tlsFolder().resolve(ftlab.security.Revocations.FILE));
      List<Identity> identities = new ArrayList<>();
      for (int i = 1; i <= layout.coordinators(); i++) {
        identities.add(new Identity(Role.COORDINATOR, layout.coordinatorName(i)));
      }
      for (int i = 1; i <= layout.nodes(); i++) {
        identities.add(new Identity(Role.NODE, layout.nodeName(i)));
      }
      identities.add(new Identity(Role.CLIENT, "client"));
      identities.add(new Identity(Role.ADMIN, "admin"));
      for (Identity identity : identities) {
        authority.issue(identity, Duration.ofDays(30));
      }
      progress.accept(
          "mutual TLS: "
              + identities.size()
              + " certificates from the lab's authority in "
              + tlsFolder());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make certificates: " + e.getMessage(), e);
    }
  }

  private Path copyJar(Path jar) {
    Path copy = stateDir.resolve("jars").resolve(jar.getFileName());
    try {
      Files.createDirectories(copy.getParent());
      Files.copy(jar, copy, StandardCopyOption.REPLACE_EXISTING);
      return copy;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + jar + " to " + copy, e);
    }
  }

  /** The command line of a member: java, the JVM flags, the jar, and the common settings. */
  private static List<String> command(
      Path jar, String name, int port, String interval, boolean metrics) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(JVM_FLAGS);
    cmd.addAll(
        List.of(
            "-jar",
            jar.toString(),
            "--id",
            name,
            "--port",
            Integer.toString(port),
            "--http-port",
            metrics ? Integer.toString(port + LocalLayout.HTTP_PORT_OFFSET) : "-1",
            "--bind",
            "127.0.0.1",
            "--heartbeat-interval-ms",
            interval));
    return cmd;
  }

  /** Starts the member's command in the background, output appended to its log file. */
  private Member launch(Member m) {
    File log = logFile(m.name()).toFile();
    ProcessBuilder pb =
        new ProcessBuilder(m.command())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log))
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    // the member's command line says it all: a TLS folder exported for other clusters must not
    // turn on TLS in a member started without it
    pb.environment().remove("FTLAB_TLS_DIR");
    pb.environment().remove("FTLAB_AS");
    pb.environment().remove("FTLAB_TLS_AS");
    try {
      Process p = pb.start();
      long startedAt = p.info().startInstant().map(i -> i.toEpochMilli()).orElse(0L);
      return m.withProcess(p.pid(), startedAt);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + m.name() + ": " + e.getMessage(), e);
    }
  }

  /** The member with this name. */
  public Member member(String name) {
    return members().stream()
        .filter(m -> m.name().equals(name))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "no member named '" + name + "' in the local cluster (see 'ftlab local ps')"));
  }

  /**
   * Sends a signal to a member by name: KILL (crash), STOP (freeze), CONT (thaw), TERM (graceful
   * stop). This is what a learner does by hand with {@code kill -SIGNAL PID}.
   */
  public void signal(String name, String signal) {
    Member m = member(name);
    if (MemberProcess.handle(m).isEmpty()) {
      throw new IllegalStateException(name + " is not running; cannot send it SIG" + signal);
    }
    MemberProcess.signal(m.pid(), signal);
  }

  /**
   * Starts one member again with its recorded command line (after {@code kill -9}, a crash or
   * {@code ftlab local stop}). Refuses if it is still running.
   */
  public synchronized Member start(String name) {
    List<Member> members = new ArrayList<>(members());
    for (int i = 0; i < members.size(); i++) {
      Member m = members.get(i);
      if (m.name().equals(name)) {
        MemberProcess.ProcessStatus s = MemberProcess.status(m);
        if (s != MemberProcess.ProcessStatus.EXITED) {
          throw new IllegalStateException(
              name + " is still " + s.word() + " (PID " + m.pid() + "); nothing to start");
        }
        Member again = launch(m);
        members.set(i, again);
        save(members);
        return again;
      }
    }
    throw new IllegalArgumentException(
        "no member named '" + name + "' in the local cluster (see 'ftlab local ps')");
  }

  /** The nodes recorded now, by their number: node-1, node-2, ... */
  public List<Member> nodes() {
    return members().stream()
        .filter(m -> m.role().equals(Member.NODE))
        .sorted(java.util.Comparator.comparingInt(LocalCluster::number))
        .toList();
  }

  private static int number(Member m) {
    return Integer.parseInt(m.name().substring(m.name().lastIndexOf('-') + 1));
  }

  /**
   * Adds nodes to the running cluster up to {@code count} in all: node-(k+1) to node-count, each
   * started as node-1 was (the same jar, coordinators, capacity and settings; with mutual TLS a
   * certificate of its own from the lab's authority), on the ports after node-1's. They join by
   * heartbeat: nobody else is told. Returns the nodes started (none if there are that many).
   *
   * @throws IllegalArgumentException beyond 50 nodes, or if no node-1 is recorded to copy
   * @throws IllegalStateException if a port is taken
   */
  public synchronized List<Member> addNodes(int count) {
    if (count > MAX_NODES) {
      throw new IllegalArgumentException(
          "a local cluster has at most " + MAX_NODES + " nodes, asked for " + count);
    }
    List<Member> members = new ArrayList<>(members());
    List<Member> nodes = nodes();
    Member first =
        nodes.stream()
            .filter(m -> number(m) == 1)
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "no node-1 in the local cluster to start new nodes like (see 'ftlab"
                            + " local ps')"));
    int highest = nodes.isEmpty() ? 0 : number(nodes.get(nodes.size() - 1));
    boolean metrics = !first.metricsUrl().equals("-");
    // every port first: a cluster is not left half scaled for want of the last one
    for (int i = highest + 1; i <= count; i++) {
      int port = first.port() + i - 1;
      for (int p : metrics ? List.of(port, port + LocalLayout.HTTP_PORT_OFFSET) : List.of(port)) {
        boolean recorded = members.stream().anyMatch(m -> m.port() == p);
        if (recorded || !LocalLayout.isFree(p)) {
          throw new IllegalStateException(
              "port " + p + " on 127.0.0.1, where node-" + i + " would listen, is already in use");
        }
      }
    }
    List<Member> added = new ArrayList<>();
    for (int i = highest + 1; i <= count; i++) {
      String name = "node-" + i;
      int port = first.port() + i - 1;
      List<String> cmd = new ArrayList<>(first.command());
      set(cmd, "--id", name);
      set(cmd, "--port", Integer.toString(port));
      if (metrics) {
        set(cmd, "--http-port", Integer.toString(port + LocalLayout.HTTP_PORT_OFFSET));
      }
      if (cmd.contains("--tls-dir")) {
        issue(Path.of(cmd.get(cmd.indexOf("--tls-dir") + 1)), name);
      }
      try {
        Files.deleteIfExists(logFile(name)); // a new node starts a new log
      } catch (IOException e) {
        throw new UncheckedIOException("cannot delete the old log of " + name, e);
      }
      Member m = launch(new Member(name, Member.NODE, 0, 0, port, cmd));
      added.add(m);
      members.add(m);
      save(members);
    }
    return added;
  }

  /** The most nodes a local cluster has (as {@link LocalLayout}). */
  public static final int MAX_NODES = 50;

  private static void set(List<String> cmd, String flag, String value) {
    int i = cmd.indexOf(flag);
    if (i < 0 || i + 1 >= cmd.size()) {
      throw new IllegalStateException("node-1's recorded command has no " + flag);
    }
    cmd.set(i + 1, value);
  }

  /** A certificate for a new node from the lab's authority in {@code dir}. */
  private static void issue(Path dir, String name) {
    try {
      LabCertificates.openOrCreate(dir, Duration.ofDays(3650))
          .issue(new Identity(Role.NODE, name), Duration.ofDays(30));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot make " + name + "'s certificate: " + e.getMessage(), e);
    }
  }

  /**
   * Takes the nodes beyond the first {@code count} (the highest numbers) away, as {@code ftlab
   * local down} stops them: SIGTERM, so that each says goodbye (LEFT) and finishes the tasks it
   * holds (SIGCONT too, in case it is paused), all at once; they leave the state file at once, so
   * that a scale right after this one counts without them. Returns them; {@link #awaitGone} waits
   * for them to exit (SIGKILL after its grace). At least one node stays.
   */
  public synchronized List<Member> terminateNodesBeyond(int count) {
    if (count < 1) {
      throw new IllegalArgumentException(
          "a local cluster keeps at least 1 node ('ftlab local down' stops them all), asked for "
              + count);
    }
    List<Member> beyond = nodes().stream().filter(m -> number(m) > count).toList();
    List<String> names = beyond.stream().map(Member::name).toList();
    save(members().stream().filter(m -> !names.contains(m.name())).toList());
    for (Member m : beyond) {
      MemberProcess.handle(m)
          .ifPresent(
              h -> {
                h.destroy();
                MemberProcess.signal(m.pid(), "CONT");
              });
    }
    return beyond;
  }

  /**
   * Waits up to {@code grace} for these members to exit, SIGKILL to any still running after it.
   * Returns those that were still running when it began waiting.
   */
  public static List<Member> awaitGone(List<Member> leaving, Duration grace)
      throws InterruptedException {
    return stop(leaving, grace);
  }

  /**
   * Waits until every coordinator sees each of these nodes ALIVE (a new node's first heartbeat).
   * Fails early, with the end of its log, if one exits.
   *
   * @return how long it took
   */
  public Duration awaitAlive(List<String> nodes, Duration timeout) throws InterruptedException {
    long start = System.nanoTime();
    AtomicReference<String> waitingFor = new AtomicReference<>("no look yet");
    try (Coordinators coordinators =
        new Coordinators(coordinatorAddresses(), credentials("client"))) {
      boolean alive =
          Poll.untilTrue(
              timeout,
              Duration.ofMillis(50),
              () -> {
                for (Member m : members()) {
                  if (nodes.contains(m.name())
                      && MemberProcess.status(m) == MemberProcess.ProcessStatus.EXITED) {
                    throw new IllegalStateException(
                        m.name()
                            + " exited while starting; the end of its log:\n"
                            + tail(m.name(), 15));
                  }
                }
                waitingFor.set(notAlive(coordinators, nodes));
                return waitingFor.get() == null;
              });
      if (!alive) {
        throw new IllegalStateException(
            "not every coordinator saw the new nodes ALIVE within "
                + timeout.toSeconds()
                + " s"
                + ": "
                + waitingFor.get()
                + " (logs are in "
                + stateDir.resolve("logs")
                + ")");
      }
    }
    return Duration.ofNanos(System.nanoTime() - start);
  }

  /** Which coordinator does not see which of these nodes ALIVE yet, or null. */
  private static String notAlive(Coordinators coordinators, List<String> nodes) {
    for (int i = 0; i < coordinators.size(); i++) {
      ClusterView view;
      try {
        view = coordinators.view(i, 1_000);
      } catch (StatusRuntimeException e) {
        return "coordinator at " + coordinators.address(i) + " is not answering";
      }
      List<String> alive =
          view.getNodesList().stream()
              .filter(n -> n.getState() == NodeState.ALIVE)
              .map(n -> n.getNodeId())
              .toList();
      List<String> missing = nodes.stream().filter(n -> !alive.contains(n)).toList();
      if (!missing.isEmpty()) {
        return view.getCoordinatorId() + " does not see " + String.join(", ", missing) + " ALIVE";
      }
    }
    return null;
  }

  /**
   * Waits until every coordinator sees {@code nodes} nodes ALIVE and answers one task. Fails early,
   * with the end of its log, if a process dies while starting.
   */
  public void awaitReady(int nodes, Duration timeout, Consumer<String> progress)
      throws InterruptedException {
    List<String> addresses = coordinatorAddresses();
    AtomicReference<String> waitingFor = new AtomicReference<>();
    AtomicLong nextReport = new AtomicLong(System.nanoTime());
    try (Coordinators coordinators = new Coordinators(addresses, credentials("client"))) {
      boolean ready =
          Poll.untilTrue(
              timeout,
              Duration.ofMillis(100),
              () -> {
                for (Member m : members()) {
                  if (MemberProcess.status(m) == MemberProcess.ProcessStatus.EXITED) {
                    throw new IllegalStateException(
                        m.name()
                            + " exited while starting; the end of its log:\n"
                            + tail(m.name(), 15));
                  }
                }
                waitingFor.set(notReady(coordinators, nodes));
                if (waitingFor.get() != null
                    && System.nanoTime() - nextReport.get() >= 0) { // every 2 s
                  progress.accept("waiting: " + waitingFor.get());
                  nextReport.set(System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
                }
                return waitingFor.get() == null;
              });
      if (!ready) {
        throw new IllegalStateException(
            "the cluster did not become ready within "
                + timeout.toSeconds()
                + " s: "
                + waitingFor.get()
                + " (logs are in "
                + stateDir.resolve("logs")
                + ")");
      }
    }
  }

  /** What the cluster still lacks, or null when it is ready. */
  private static String notReady(Coordinators coordinators, int nodes) {
    for (int i = 0; i < coordinators.size(); i++) {
      ClusterView view;
      try {
        view = coordinators.view(i, 1_000);
      } catch (StatusRuntimeException e) {
        return "coordinator at " + coordinators.address(i) + " is not answering yet";
      }
      long alive =
          view.getNodesList().stream().filter(n -> n.getState() == NodeState.ALIVE).count();
      if (alive < nodes) {
        return view.getCoordinatorId() + " sees " + alive + " of " + nodes + " nodes ALIVE";
      }
      try {
        coordinators
            .stub(i)
            .withDeadlineAfter(2, TimeUnit.SECONDS)
            .submit(
                SubmitRequest.newBuilder()
                    .setRequestId("ready-check")
                    .setTask(
                        Task.newBuilder()
                            .setCountPrimes(CountPrimes.newBuilder().setFrom(0).setTo(100)))
                    .build());
      } catch (StatusRuntimeException e) {
        return view.getCoordinatorId()
            + " does not answer tasks yet ("
            + Coordinators.explain(e)
            + ")";
      }
    }
    return null;
  }

  /**
   * Stops the whole cluster: nodes first (so their goodbyes reach the coordinators), then
   * coordinators.
   */
  public void down(Duration grace, Consumer<String> progress) throws InterruptedException {
    List<Member> members = members();
    List<Member> nodes = members.stream().filter(m -> m.role().equals(Member.NODE)).toList();
    List<Member> coordinators =
        members.stream().filter(m -> m.role().equals(Member.COORDINATOR)).toList();
    for (Member m : stop(nodes, grace)) {
      progress.accept("stopped " + m.name() + " (PID " + m.pid() + ")");
    }
    for (Member m : stop(coordinators, grace)) {
      progress.accept("stopped " + m.name() + " (PID " + m.pid() + ")");
    }
    save(List.of());
  }

  /**
   * SIGTERM to each running member (and SIGCONT, in case it is paused: a stopped process cannot
   * handle SIGTERM), wait up to {@code grace} for them to exit, then SIGKILL the rest.
   *
   * @return the members that were running
   */
  private static List<Member> stop(List<Member> members, Duration grace)
      throws InterruptedException {
    List<Member> running = new ArrayList<>();
    List<ProcessHandle> handles = new ArrayList<>();
    for (Member m : members) {
      Optional<ProcessHandle> h = MemberProcess.handle(m);
      if (h.isPresent()) {
        running.add(m);
        handles.add(h.get());
        h.get().destroy();
        MemberProcess.signal(m.pid(), "CONT");
      }
    }
    long deadline = System.nanoTime() + grace.toNanos();
    for (ProcessHandle h : handles) {
      long left = deadline - System.nanoTime();
      try {
        h.onExit().get(Math.max(0, left), TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        h.destroyForcibly();
      }
    }
    return running;
  }

  /**
   * Deletes the state folder (state file, logs, jar copies) of a cluster that is down: what tests
   * and benchmarks do with their temporary clusters. Refuses while a member still runs.
   */
  public void deleteState() {
    if (isRunning()) {
      throw new IllegalStateException("the cluster in " + stateDir + " is still running");
    }
    if (!Files.exists(stateDir)) {
      return;
    }
    try (java.util.stream.Stream<Path> paths = Files.walk(stateDir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + stateDir, e);
    }
  }

  /** The last lines of a member's log. */
  public String tail(String name, int lines) {
    try {
      List<String> all = Files.readAllLines(logFile(name), StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
