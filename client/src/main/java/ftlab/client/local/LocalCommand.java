package ftlab.client.local;

import ftlab.client.DurationConverter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ftlab local}: the whole cluster as local processes, for machines without Docker. */
@Command(
    name = "local",
    mixinStandardHelpOptions = true,
    description = {
      "Run the cluster as local background processes (no Docker needed).",
      "Then break it with kill -9 PID, kill -STOP PID / kill -CONT PID, or kill PID."
    },
    subcommands = {
      LocalCommand.Up.class,
      LocalCommand.Ps.class,
      LocalCommand.Start.class,
      LocalCommand.Scale.class,
      LocalCommand.Down.class
    })
public final class LocalCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Options every local subcommand has. */
  static class Where {
    @Option(
        names = "--dir",
        description =
            "Where the cluster's state and logs live (env FTLAB_LOCAL_DIR)."
                + " Default: ~/.ftlab/local.")
    Path dir;

    LocalCluster cluster(boolean needJars) {
      return new LocalCluster(
          dir != null ? dir : LocalCluster.defaultStateDir(), needJars ? Jars.locate() : null);
    }
  }

  @Command(
      name = "up",
      mixinStandardHelpOptions = true,
      description =
          "Start coordinators and nodes in the background; return once the cluster answers.")
  static final class Up extends Where implements Callable<Integer> {
    @Option(
        names = "--coordinators",
        defaultValue = "2",
        description = "Default: ${DEFAULT-VALUE}.")
    int coordinators;

    @Option(names = "--nodes", defaultValue = "5", description = "Default: ${DEFAULT-VALUE}.")
    int nodes;

    @Option(
        names = "--base-port",
        defaultValue = "7001",
        description = "Port of coordinator-1; the others follow. Default: ${DEFAULT-VALUE}.")
    int basePort;

    @Option(
        names = "--node-base-port",
        defaultValue = "7101",
        description = "Port of node-1; the others follow. Default: ${DEFAULT-VALUE}.")
    int nodeBasePort;

    @Option(
        names = "--capacity",
        defaultValue = "4",
        description = "Tasks each node computes at once. Default: ${DEFAULT-VALUE}.")
    int capacity;

    @Option(
        names = "--heartbeat-interval-ms",
        defaultValue = "100",
        description = "Default: ${DEFAULT-VALUE}.")
    int heartbeatIntervalMs;

    @Option(
        names = "--tls",
        description =
            "Mutual TLS on every link: make a lab authority and certificates in DIR/tls, and start"
                + " every member with --tls-dir; the CLI's commands on this cluster use them by"
                + " themselves (docs/security.md). Default: plaintext.")
    boolean tls;

    @Option(
        names = "--timeout",
        defaultValue = "60s",
        converter = DurationConverter.class,
        description = "How long to wait for the cluster to answer. Default: ${DEFAULT-VALUE}.")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
      LocalLayout layout =
          new LocalLayout(
              coordinators, nodes, basePort, nodeBasePort, capacity, heartbeatIntervalMs);
      LocalCluster cluster = cluster(true);
      System.out.printf(
          "starting %d coordinator%s and %d node%s (logs in %s)%n",
          coordinators,
          coordinators == 1 ? "" : "s",
          nodes,
          nodes == 1 ? "" : "s",
          cluster.stateDir().resolve("logs"));
      long start = System.nanoTime();
      List<Member> members = cluster.up(layout, tls, timeout, System.out::println);
      System.out.printf(
          "cluster ready in %.1f s: every coordinator sees %s ALIVE and answers%n",
          (System.nanoTime() - start) / 1e9, nodes == 1 ? "its node" : nodes + " nodes");
      System.out.print(Ps.table(members));
      System.out.println();
      String d = dir == null ? "" : " --dir " + dir;
      String me = invokedAs(System.getProperty("ftlab.home"), Path.of(""));
      // each line: what to type or open, and what it is for; the words lined up
      List<String[]> next = new ArrayList<>();
      next.add(new String[] {me + " watch" + d, "(a stream of checked answers)"});
      next.add(new String[] {me + " status" + d, "(what each coordinator sees)"});
      members.stream()
          .filter(m -> m.role().equals(Member.COORDINATOR))
          .findFirst()
          .ifPresent(
              m ->
                  next.add(
                      new String[] {
                        "http://127.0.0.1:" + m.httpPort() + "/",
                        "(" + m.name() + "'s dashboard, in a browser)"
                      }));
      String[] faults = {"kill -9 PID, kill -STOP PID / kill -CONT PID, kill PID", "(faults)"};
      next.add(faults);
      next.add(new String[] {me + " local start" + d + " NAME", "(start a stopped member again)"});
      next.add(new String[] {me + " local scale" + d + " N", "(add nodes, or take some away)"});
      next.add(new String[] {me + " local down" + d, "(stop everything)"});
      // the faults line is too long to set the others' width: it keeps its own
      int width =
          next.stream().filter(l -> l != faults).mapToInt(l -> l[0].length()).max().orElse(0);
      for (String[] line : next) {
        String what = line == faults ? line[0] + " " : String.format("%-" + width + "s", line[0]);
        System.out.println((line == next.get(0) ? "next: " : "      ") + what + "  " + line[1]);
      }
      return 0;
    }
  }

  @Command(
      name = "ps",
      mixinStandardHelpOptions = true,
      description =
          "List the local cluster's processes: name, role, PID, port, status, and where each"
              + " serves its metrics.")
  static final class Ps extends Where implements Callable<Integer> {
    @Override
    public Integer call() {
      List<Member> members = cluster(false).members();
      if (members.isEmpty()) {
        System.out.println("no local cluster (start one with 'ftlab local up')");
        return 0;
      }
      System.out.print(table(members));
      return 0;
    }

    static String table(List<Member> members) {
      StringBuilder s = new StringBuilder();
      s.append(
          String.format(
              "%-15s %-12s %8s %6s  %-8s %s%n",
              "NAME", "ROLE", "PID", "PORT", "STATUS", "METRICS"));
      for (Member m : members) {
        s.append(
            String.format(
                "%-15s %-12s %8d %6d  %-8s %s%n",
                m.name(),
                m.role(),
                m.pid(),
                m.port(),
                MemberProcess.status(m).word(),
                m.metricsUrl()));
      }
      return s.toString();
    }
  }

  @Command(
      name = "start",
      mixinStandardHelpOptions = true,
      description =
          "Start a member that has stopped (after kill -9 or kill) again, with the same settings.")
  static final class Start extends Where implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "e.g. node-3")
    String name;

    @Override
    public Integer call() {
      Member m = cluster(false).start(name);
      System.out.printf("started %s again: PID %d, port %d%n", m.name(), m.pid(), m.port());
      return 0;
    }
  }

  @Command(
      name = "scale",
      mixinStandardHelpOptions = true,
      description = {
        "Add nodes to the running cluster, or take the newest away, until it has NODES.",
        "New nodes start like node-1 (its settings, the next ports) and join by heartbeat;"
            + " nodes taken away stop gracefully: each says goodbye (LEFT) and finishes its"
            + " tasks. Run it under load ('ftlab watch' in another terminal) to see the shares"
            + " and the answers per second change."
      })
  static final class Scale extends Where implements Callable<Integer> {
    @Parameters(paramLabel = "NODES", description = "How many nodes the cluster has after (1-50).")
    int count;

    @Option(
        names = "--timeout",
        defaultValue = "60s",
        converter = DurationConverter.class,
        description =
            "How long to wait for every coordinator to see the new nodes ALIVE. Default:"
                + " ${DEFAULT-VALUE}.")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
      if (count < 1 || count > LocalCluster.MAX_NODES) {
        throw new IllegalArgumentException(
            "NODES must be between 1 and "
                + LocalCluster.MAX_NODES
                + " ('ftlab local down' stops them all), got "
                + count);
      }
      LocalCluster cluster = cluster(false);
      List<Member> nodes = cluster.nodes();
      if (nodes.isEmpty()) {
        throw new IllegalStateException(
            "no local cluster in " + cluster.stateDir() + " (start one with 'ftlab local up')");
      }
      boolean coordinatorRunning =
          cluster.members().stream()
              .anyMatch(
                  m ->
                      m.role().equals(Member.COORDINATOR)
                          && MemberProcess.status(m) != MemberProcess.ProcessStatus.EXITED);
      if (!coordinatorRunning) {
        throw new IllegalStateException(
            "no coordinator of the local cluster in "
                + cluster.stateDir()
                + " is running: new nodes would have nobody to join (see 'ftlab local ps')");
      }
      if (count == nodes.size()) {
        System.out.printf(
            "the local cluster has %d node%s already: nothing to do%n",
            count, count == 1 ? "" : "s");
        return 0;
      }
      if (count > nodes.size()) {
        long start = System.nanoTime();
        List<Member> added = cluster.addNodes(count);
        List<String> names = added.stream().map(Member::name).toList();
        for (Member m : added) {
          System.out.printf("started %s: PID %d, port %d%n", m.name(), m.pid(), m.port());
        }
        try {
          cluster.awaitAlive(names, timeout);
        } catch (RuntimeException | InterruptedException e) {
          // as 'up' does: what did not join is stopped again, not left half-started
          LocalCluster.awaitGone(
              cluster.terminateNodesBeyond(nodes.size()), Duration.ofSeconds(10));
          throw e;
        }
        System.out.printf(
            "every coordinator sees %s ALIVE after %.1f s: %s by heartbeat; the cluster has"
                + " %d nodes%n",
            String.join(", ", names),
            (System.nanoTime() - start) / 1e9,
            names.size() == 1 ? "it joined" : "they joined",
            cluster.nodes().size());
        return 0;
      }
      System.out.printf(
          "stopping the nodes after node-%d gracefully (SIGTERM: each says goodbye and finishes"
              + " its tasks)%n",
          count);
      long start = System.nanoTime();
      List<Member> leaving = cluster.terminateNodesBeyond(count);
      List<Member> running = LocalCluster.awaitGone(leaving, Duration.ofSeconds(10));
      for (Member m : leaving) {
        System.out.printf(
            "%s %s (PID %d)%n",
            running.contains(m) ? "stopped" : "removed (not running)", m.name(), m.pid());
      }
      int left = cluster.nodes().size();
      System.out.printf(
          "done in %.1f s; the cluster has %d node%s%n",
          (System.nanoTime() - start) / 1e9, left, left == 1 ? "" : "s");
      return 0;
    }
  }

  @Command(
      name = "down",
      mixinStandardHelpOptions = true,
      description = "Stop every process of the local cluster (nodes first, gracefully).")
  static final class Down extends Where implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
      LocalCluster cluster = cluster(false);
      if (cluster.members().isEmpty()) {
        System.out.println("no local cluster to stop");
        return 0;
      }
      cluster.down(Duration.ofSeconds(10), System.out::println);
      System.out.println("local cluster stopped");
      return 0;
    }
  }

  /**
   * How the user types this command: {@code ./ftlab} in the checkout it runs from (the script sets
   * {@code ftlab.home}), the script's path from elsewhere, {@code ftlab} when it is on the PATH.
   */
  static String invokedAs(String home, Path workingDir) {
    if (home == null || home.isBlank()) {
      return "ftlab";
    }
    Path h = Path.of(home).toAbsolutePath().normalize();
    if (h.equals(workingDir.toAbsolutePath().normalize())) {
      return "./ftlab";
    }
    return h.resolve("ftlab").toString();
  }
}
