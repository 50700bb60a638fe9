package ftlab.bench;

import ftlab.client.Coordinators;
import ftlab.client.Poll;
import ftlab.client.local.Jars;
import ftlab.client.local.LocalCluster;
import ftlab.client.local.LocalLayout;
import ftlab.client.local.Member;
import ftlab.client.watch.Summary;
import ftlab.client.watch.TaskMix;
import ftlab.client.watch.Watch;
import ftlab.proto.ClusterView;
import ftlab.proto.NodeState;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The scale-out curve: throughput and latency as nodes are added, on capacity-bound work (echo
 * tasks that wait, as a call to a slow disk or service would: a node holds {@code capacity} of them
 * at once, whatever the machine's cores), so that adding nodes adds capacity even on a 2-core
 * machine, until the coordinator or the machine saturates. Each node count is a fresh local
 * cluster, or, on the compose lab, the same lab with more nodes started; the CPU each kind of
 * process used is read from {@code /proc}, to say what saturates.
 */
@Command(
    name = "scale",
    mixinStandardHelpOptions = true,
    description = {
      "Measure scale-out: for each node count, a local cluster of real processes under a closed"
          + " loop of echo tasks (waits of 0 to --echo-ms ms), once with as many requests in flight"
          + " as the nodes hold (nodes x capacity), then with twice and four times that (overload); prints"
          + " throughput, p50/p99, extra attempts (a node at capacity refuses an attempt with"
          + " RESOURCE_EXHAUSTED), requests failed (a full coordinator sheds them) and the CPU"
          + " used by the coordinators, the nodes and this client.",
      "Starts its own clusters on free loopback ports and stops each after its rows. With"
          + " --target compose: the Docker lab instead (docker-compose.yml, its 2 coordinators),"
          + " in a compose project of its own (ftlab-bench-scale) with its coordinators on free"
          + " loopback ports, nodes added live as the counts rise (node-1 to node-5, then the"
          + " pool), removed at the end; builds the image first (set FTLAB_BUILD_IMAGE and"
          + " FTLAB_RUNTIME_IMAGE as for the lab if you have no registry)."
    })
public final class ScaleBench implements Callable<Integer> {
  @Option(
      names = "--nodes",
      split = ",",
      defaultValue = "1,2,3,5,8",
      description =
          "Node counts: a local cluster each; on the compose lab, rising counts of one lab."
              + " Default: ${DEFAULT-VALUE}.")
  List<Integer> nodeCounts;

  @Option(
      names = "--coordinators",
      description =
          "Coordinators in each local cluster; the client spreads its requests over them. Default:"
              + " 1 (the compose lab has 2).")
  Integer coordinators;

  @Option(
      names = "--target",
      defaultValue = "local",
      description =
          "local: a fresh cluster of local processes for each node count; compose: the Docker lab,"
              + " nodes added live. Default: ${DEFAULT-VALUE}.")
  String target;

  @Option(
      names = "--compose",
      description =
          "With --target compose: the compose command, 'docker compose' or 'docker-compose'."
              + " Default: the first that works.")
  String compose;

  /** The compose lab's project: not the learner's lab's (ftlab), nor bench docker's. */
  private static final String PROJECT = "ftlab-bench-scale";

  /** The compose lab's named nodes; beyond them, the pool's replicas. */
  private static final int NAMED_NODES = 5;

  /** The proxies' share of CPU: Docker's forwarders of the published ports (compose only). */
  private static final String PROXY = "docker-proxy";

  @Option(
      names = "--capacity",
      defaultValue = "4",
      description = "Tasks a node computes at once (FTLAB_CAPACITY). Default: ${DEFAULT-VALUE}.")
  int capacity;

  @Option(
      names = "--echo-ms",
      defaultValue = "100",
      description =
          "Longest echo wait; each waits 0 to this (the mean is half). Default: ${DEFAULT-VALUE}.")
  int echoMs;

  @Option(
      names = "--seconds",
      defaultValue = "15",
      description =
          "Length of each measured run, after 5 s of the same load. Default: ${DEFAULT-VALUE}.")
  int seconds;

  /** CPU seconds used by a set of processes, from /proc/PID/stat (utime + stime). */
  static double cpuSeconds(List<Long> pids) {
    double ticks = 0;
    for (long pid : pids) {
      try {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        // the command name, in parentheses, may hold spaces: fields are counted after it
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
      } catch (IOException | RuntimeException e) {
        throw new IllegalStateException("cannot read the CPU time of process " + pid, e);
      }
    }
    return ticks / 100.0; // USER_HZ: 100 on Linux
  }

  /** One measured row. */
  private record Row(
      int nodes,
      String load,
      int inFlight,
      Summary summary,
      double coordinatorCores,
      double nodeCores,
      double clientCores,
      double proxyCores) {}

  @Override
  public Integer call() throws Exception {
    boolean onCompose =
        switch (target) {
          case "local" -> false;
          case "compose" -> true;
          default ->
              throw new IllegalArgumentException(
                  "--target is local or compose, got '" + target + "'");
        };
    if (onCompose && coordinators != null && coordinators != 2) {
      throw new IllegalArgumentException(
          "the compose lab has 2 coordinators (docker-compose.yml), got --coordinators "
              + coordinators
              + ": it sizes a local cluster");
    }
    if (!onCompose && compose != null) {
      throw new IllegalArgumentException("--compose goes with --target compose");
    }
    if (coordinators == null) {
      coordinators = onCompose ? 2 : 1;
    }
    if (onCompose && !increasing(nodeCounts)) {
      throw new IllegalArgumentException(
          "with --target compose nodes join a running lab, so --nodes must rise, got "
              + nodeCounts);
    }
    if (nodeCounts.isEmpty()
        || nodeCounts.stream().anyMatch(n -> n < 1 || n > 16)
        || coordinators < 1
        || coordinators > 3
        || capacity < 1
        || capacity > 64
        || echoMs < 2
        || echoMs > 1_000
        || seconds < 5
        || seconds > 300) {
      throw new IllegalArgumentException(
          "need --nodes of 1 to 16 each, 1 <= --coordinators <= 3, 1 <= --capacity <= 64,"
              + " 2 <= --echo-ms <= 1000 and 5 <= --seconds <= 300");
    }
    if (!Files.isReadable(Path.of("/proc/self/stat"))) {
      throw new IllegalStateException("needs Linux's /proc to read each process's CPU time");
    }
    List<Row> rows = onCompose ? composeRows() : localRows();
    print(rows, onCompose);
    return 0;
  }

  private static boolean increasing(List<Integer> counts) {
    for (int i = 1; i < counts.size(); i++) {
      if (counts.get(i) <= counts.get(i - 1)) {
        return false;
      }
    }
    return true;
  }

  private List<Row> localRows() throws Exception {
    List<Row> rows = new ArrayList<>();
    for (int n : nodeCounts) {
      LocalLayout layout = LocalLayout.onFreePorts(coordinators, n, capacity);
      LocalCluster cluster =
          new LocalCluster(Files.createTempDirectory("ftlab-bench-scale-"), Jars.locate());
      System.err.printf(
          Locale.ROOT, "starting %d coordinator(s) and %d node(s)%n", coordinators, n);
      cluster.up(layout, Duration.ofSeconds(90), line -> {});
      try (Coordinators cs = new Coordinators(layout.coordinatorAddresses())) {
        Map<String, List<Long>> pids = pidsByRole(cluster);
        int held = n * capacity;
        rows.add(run(cs, pids, n, "matched", held));
        rows.add(run(cs, pids, n, "2x", 2 * held));
        rows.add(run(cs, pids, n, "4x", 4 * held));
      } finally {
        cluster.down(Duration.ofSeconds(10), line -> {});
        cluster.deleteState();
      }
    }
    return rows;
  }

  /**
   * The compose lab's rows: one lab, its nodes started as the counts rise (the named ones first,
   * then the pool's replicas), each count measured once every coordinator has its nodes ALIVE.
   */
  private List<Row> composeRows() throws Exception {
    BenchLab lab = new BenchLab(PROJECT, compose, Map.of("FTLAB_CAPACITY", "" + capacity));
    System.err.println("building the image with " + lab.describe() + " build");
    lab.compose(Duration.ofMinutes(15), "build");
    lab.down(); // what a run stopped half-way left
    List<Row> rows = new ArrayList<>();
    try (Coordinators cs = new Coordinators(lab.coordinatorAddresses())) {
      composeCounts(lab, cs, rows);
    } catch (Exception e) {
      try {
        lab.down();
      } catch (Exception d) {
        e.addSuppressed(d);
      }
      throw e;
    }
    lab.down();
    return rows;
  }

  /** Starts the lab's nodes as the counts rise, and measures each count. */
  private void composeCounts(BenchLab lab, Coordinators cs, List<Row> rows) throws Exception {
    for (int n : nodeCounts) {
      // the services that hold the n nodes: the named ones first, then the pool
      List<String> nodes = new ArrayList<>();
      for (int i = 1; i <= Math.min(n, NAMED_NODES); i++) {
        nodes.add("node-" + i);
      }
      List<String> up = new ArrayList<>(List.of("up", "-d"));
      up.addAll(nodes);
      System.err.printf(Locale.ROOT, "starting the lab's nodes up to %d%n", n);
      lab.compose(Duration.ofMinutes(3), up.toArray(String[]::new));
      if (n > NAMED_NODES) {
        lab.compose(
            Duration.ofMinutes(3), "up", "-d", "--scale", "pool=" + (n - NAMED_NODES), "pool");
      }
      awaitAlive(cs, n);
      Map<String, List<Long>> pids = new LinkedHashMap<>();
      pids.put(Member.COORDINATOR, containerProcesses(lab, "coordinator-1", "coordinator-2"));
      if (n > NAMED_NODES) {
        nodes.add("pool");
      }
      pids.put(Member.NODE, containerProcesses(lab, nodes.toArray(String[]::new)));
      pids.put(PROXY, lab.proxies());
      int held = n * capacity;
      rows.add(run(cs, pids, n, "matched", held));
      rows.add(run(cs, pids, n, "2x", 2 * held));
      rows.add(run(cs, pids, n, "4x", 4 * held));
    }
  }

  /** The processes of every running container of these services. */
  private static List<Long> containerProcesses(BenchLab lab, String... services) throws Exception {
    List<Long> out = new ArrayList<>();
    for (String service : services) {
      for (String id : lab.containers(service)) {
        out.addAll(lab.processes(id));
      }
    }
    return out;
  }

  /**
   * Waits until every coordinator has {@code n} nodes ALIVE: the new ones have joined (and none is
   * left from an earlier run of this lab).
   */
  private static void awaitAlive(Coordinators cs, int n) throws InterruptedException {
    String[] last = {"no answer yet"};
    Poll.until(
            Duration.ofMinutes(2),
            Duration.ofMillis(200),
            () -> {
              List<String> seen = new ArrayList<>();
              boolean all = true;
              for (int i = 0; i < cs.size(); i++) {
                try {
                  ClusterView v = cs.view(i, 2_000);
                  long alive =
                      v.getNodesList().stream()
                          .filter(x -> x.getState() == NodeState.ALIVE)
                          .count();
                  seen.add(v.getCoordinatorId() + " " + alive + " ALIVE");
                  all &= alive == n;
                } catch (StatusRuntimeException e) {
                  seen.add(cs.address(i) + " " + Coordinators.explain(e));
                  all = false;
                }
              }
              last[0] = String.join(", ", seen);
              return all ? Optional.of(true) : Optional.<Boolean>empty();
            })
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "the lab's "
                        + n
                        + " nodes were not ALIVE, and no others, within 2 minutes: "
                        + last[0]));
  }

  private static Map<String, List<Long>> pidsByRole(LocalCluster cluster) {
    Map<String, List<Long>> pids = new LinkedHashMap<>();
    pids.put(Member.COORDINATOR, new ArrayList<>());
    pids.put(Member.NODE, new ArrayList<>());
    for (Member m : cluster.members()) {
      pids.get(m.role()).add(m.pid());
    }
    return pids;
  }

  private Row run(
      Coordinators cs, Map<String, List<Long>> pids, int nodes, String load, int inFlight)
      throws InterruptedException {
    Watch.Settings settings =
        Watch.Settings.DEFAULT
            .withRate(0) // a closed loop: a new request as soon as one ends
            .withConcurrency(inFlight)
            .withTasks(new TaskMix("echo", 1, 20_000, echoMs));
    new Watch(cs, settings.withDuration(Duration.ofSeconds(5)))
        .run(o -> {}, x -> {}, Duration.ofSeconds(5));
    List<Long> self = List.of(ProcessHandle.current().pid());
    List<Long> proxies = pids.getOrDefault(PROXY, List.of());
    double c0 = cpuSeconds(pids.get(Member.COORDINATOR));
    double n0 = cpuSeconds(pids.get(Member.NODE));
    double s0 = cpuSeconds(self);
    double p0 = cpuSeconds(proxies);
    Summary s =
        new Watch(cs, settings.withDuration(Duration.ofSeconds(seconds)))
            .run(o -> {}, x -> {}, Duration.ofSeconds(5));
    double wall = s.durationS();
    Row row =
        new Row(
            nodes,
            load,
            inFlight,
            s,
            (cpuSeconds(pids.get(Member.COORDINATOR)) - c0) / wall,
            (cpuSeconds(pids.get(Member.NODE)) - n0) / wall,
            (cpuSeconds(self) - s0) / wall,
            proxies.isEmpty() ? Double.NaN : (cpuSeconds(proxies) - p0) / wall);
    System.err.printf(
        Locale.ROOT,
        "%d node(s), %s (%d in flight): %.0f answers/s, p99 %.1f ms, %d failed%n",
        nodes,
        load,
        inFlight,
        s.ok() / wall,
        s.p99Ms(),
        s.failed());
    return row;
  }

  private void print(List<Row> rows, boolean onCompose) {
    System.out.printf(
        Locale.ROOT,
        "Scale-out%s: echo tasks waiting 0-%d ms (mean %d ms), capacity %d per node, %d"
            + " coordinator(s), a closed loop, %d s per row, %d cores%n%n",
        onCompose ? " on the compose lab (nodes added live)" : "",
        echoMs,
        echoMs / 2,
        capacity,
        coordinators,
        seconds,
        Runtime.getRuntime().availableProcessors());
    System.out.println(
        "| nodes | load | in flight | answers/s | ideal | of ideal | p50 ms | p99 ms | extra"
            + " attempts | failed | CPU coordinators | CPU nodes | CPU client |"
            + (onCompose ? " CPU docker-proxy |" : ""));
    System.out.println(
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            + (onCompose ? "---:|" : ""));
    for (Row r : rows) {
      double perSecond = r.summary().ok() / r.summary().durationS();
      double ideal = capacity * 1000.0 / (echoMs / 2.0) * r.nodes();
      System.out.printf(
          Locale.ROOT,
          "| %d | %s | %d | %.0f | %.0f | %.0f%% | %.1f | %.1f | %.0f%% | %d | %.2f | %.2f | %.2f |%s%n",
          r.nodes(),
          r.load(),
          r.inFlight(),
          perSecond,
          ideal,
          perSecond / ideal * 100,
          r.summary().p50Ms(),
          r.summary().p99Ms(),
          r.summary().extraAttemptsPerAnswer() * 100,
          r.summary().failed(),
          r.coordinatorCores(),
          r.nodeCores(),
          r.clientCores(),
          !onCompose
              ? ""
              : Double.isNaN(r.proxyCores())
                  ? " n/a |"
                  : String.format(Locale.ROOT, " %.2f |", r.proxyCores()));
    }
    System.out.println();
    System.out.println(
        "ideal: nodes x capacity / mean wait, what the nodes could answer if nothing else took"
            + " time. CPU: cores used, summed over the processes of each kind (2.00 = two cores busy"
            + " all the time)"
            + (onCompose
                ? "; a container's are its processes' (its init and the JVM); docker-proxy: the"
                    + " engine's forwarders of the coordinators' published ports, which this"
                    + " client's requests pass through (n/a: the engine forwards them in the"
                    + " kernel)."
                : "."));
  }
}
