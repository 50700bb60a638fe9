package ftlab.bench;

import ftlab.client.Coordinators;
import ftlab.client.NodeAdmin;
import ftlab.client.RedundancyOption;
import ftlab.client.local.Jars;
import ftlab.client.local.LocalCluster;
import ftlab.client.local.LocalLayout;
import ftlab.client.watch.Outcome;
import ftlab.client.watch.Summary;
import ftlab.client.watch.TaskMix;
import ftlab.client.watch.Watch;
import ftlab.proto.Faults;
import ftlab.proto.NodeState;
import ftlab.proto.Redundancy;
import ftlab.proto.RedundancyWords;
import ftlab.proto.Slow;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The trade-offs of the redundancy modes, on a local cluster of real processes: "The Tail at Scale"
 * (Dean and Barroso, 2013) on ftlab. The same load in every mode, with one node slowed down on
 * every task, and with every node slowed down on a few tasks; then what voting costs in throughput;
 * then how fast in-app faults are detected.
 */
@Command(
    name = "redundancy",
    mixinStandardHelpOptions = true,
    description = {
      "Measure the redundancy modes: p50/p99/p99.9 latency and extra attempts per request in each"
          + " mode, (a) with every node healthy, (b) with one of 5 nodes slowed on every task,"
          + " (c) with every node slowed on a few tasks; the throughput of failover, parallel and"
          + " vote on CPU work; and the time to detect an in-app crash, freeze and"
          + " mute-heartbeats.",
      "Starts its own cluster (2 coordinators, 5 nodes) on free loopback ports and stops it after."
    })
public final class RedundancyBench implements Callable<Integer> {
  @Option(
      names = "--rate",
      defaultValue = "100",
      description = "Requests per second in the latency runs. Default: ${DEFAULT-VALUE}.")
  double rate;

  @Option(
      names = "--seconds",
      defaultValue = "20",
      description = "Length of each latency run. Default: ${DEFAULT-VALUE}.")
  int seconds;

  @Option(
      names = "--slow-ms",
      defaultValue = "50",
      description =
          "Delay added by the slow fault; the tasks are echoes of 0-10 ms (5 ms on average), so"
              + " 50 ms is about 10x. Default: ${DEFAULT-VALUE}.")
  int slowMs;

  @Option(
      names = "--rounds",
      defaultValue = "3",
      description =
          "Rounds of each in-app fault for the detection race. Default: ${DEFAULT-VALUE}.")
  int rounds;

  private static final int NODES = 5;

  /** One latency run's result. */
  private record Run(String scenario, String mode, Histogram latency, Summary summary) {}

  @Override
  public Integer call() throws Exception {
    if (rate <= 0 || rate > 1_000 || seconds < 5 || seconds > 300 || slowMs < 1) {
      throw new IllegalArgumentException(
          "need 0 < --rate <= 1000, 5 <= --seconds <= 300 and --slow-ms >= 1");
    }
    // capacity 8: vote and parallel put 3 attempts per request on the nodes
    LocalLayout layout = LocalLayout.onFreePorts(2, NODES, 8);
    LocalCluster cluster =
        new LocalCluster(Files.createTempDirectory("ftlab-bench-redundancy-"), Jars.locate());
    System.err.println("starting 2 coordinators and " + NODES + " nodes in " + cluster.stateDir());
    cluster.up(layout, Duration.ofSeconds(90), System.err::println);
    Map<String, NodeAdmin> admin = new LinkedHashMap<>();
    for (int i = 1; i <= NODES; i++) {
      admin.put(layout.nodeName(i), new NodeAdmin(layout.nodeAddress(i)));
    }
    List<Run> runs = new ArrayList<>();
    try (Coordinators coordinators = new Coordinators(layout.coordinatorAddresses())) {
      Redundancy failover = RedundancyOption.parse("failover", 0);
      Redundancy hedged = RedundancyOption.parse("hedged", 0);
      Redundancy parallel = RedundancyOption.parse("parallel", 3);
      Redundancy vote = RedundancyOption.parse("vote", 3);
      System.err.println("warming up for 10 s");
      latencyRun(coordinators, "warm-up", failover, 10, runs);
      runs.clear();

      latencyRun(coordinators, "all healthy", failover, seconds, runs);
      latencyRun(coordinators, "all healthy", hedged, seconds, runs);

      Faults oneSlow = Faults.newBuilder().setSlow(Slow.newBuilder().setDelayMs(slowMs)).build();
      admin.get("node-5").set(oneSlow);
      for (Redundancy r : List.of(failover, hedged, parallel, vote)) {
        latencyRun(coordinators, "node-5 +" + slowMs + " ms on every task", r, seconds, runs);
      }
      admin.values().forEach(NodeAdmin::heal);

      Faults hiccups =
          Faults.newBuilder()
              .setSlow(Slow.newBuilder().setDelayMs(slowMs).setFraction(0.02))
              .build();
      admin.values().forEach(a -> a.set(hiccups));
      for (Redundancy r : List.of(failover, hedged)) {
        latencyRun(coordinators, "every node +" + slowMs + " ms on 2% of tasks", r, seconds, runs);
      }
      admin.values().forEach(NodeAdmin::heal);
      printLatencyTable(runs);

      printThroughput(coordinators, List.of(failover, parallel, vote));

      // the coordinators go back to failover for the detection race
      setMode(coordinators, failover);
    }
    try {
      List<String> nodeIds = new ArrayList<>(admin.keySet());
      new FailoverRounds(
              layout.coordinatorAddresses(),
              List.of(layout.coordinatorName(1), layout.coordinatorName(2)),
              nodeIds,
              inAppFaults(admin, cluster),
              rounds,
              50)
          .run(
              String.format(
                  Locale.ROOT,
                  "%nDetection race: in-app faults, %d of each kind, 50 requests/s, %d nodes,"
                      + " 2 coordinators; detection = the admin call to DEAD at each coordinator",
                  rounds,
                  NODES),
              () -> {});
    } finally {
      admin.values().forEach(NodeAdmin::close);
      cluster.down(Duration.ofSeconds(10), line -> {});
      cluster.deleteState();
    }
    return 0;
  }

  /** Faults injected through the node's admin service: crash, freeze, mute-heartbeats. */
  private static List<Fault> inAppFaults(Map<String, NodeAdmin> admin, LocalCluster cluster) {
    Fault.Action heal = n -> admin.get(n).heal();
    return List.of(
        new Fault(
            "crash",
            NodeState.DEAD,
            n -> admin.get(n).crash(),
            n -> FailoverBench.restartWhenExited(cluster, n)),
        new Fault(
            "freeze",
            NodeState.DEAD,
            n -> admin.get(n).set(Faults.newBuilder().setFreeze(true).build()),
            heal),
        new Fault(
            "mute-heartbeats",
            NodeState.DEAD,
            n -> admin.get(n).set(Faults.newBuilder().setMuteHeartbeats(true).build()),
            heal));
  }

  private static void setMode(Coordinators coordinators, Redundancy r) {
    for (int i = 0; i < coordinators.size(); i++) {
      coordinators.setRedundancy(i, r);
    }
  }

  /**
   * One run of echoes (0-10 ms) at the steady rate, every request asking for the mode, after 5 s of
   * the same load unmeasured: a mode that sends 3 attempts per request needs a few seconds on a
   * 2-core machine before the JIT and the connections have caught up with it.
   */
  private void latencyRun(
      Coordinators coordinators, String scenario, Redundancy mode, int runSeconds, List<Run> runs)
      throws InterruptedException {
    Watch.Settings settings =
        Watch.Settings.DEFAULT
            .withRate(rate)
            .withConcurrency(32)
            .withDuration(Duration.ofSeconds(runSeconds))
            .withTasks(new TaskMix("echo", 7, 20_000, 10))
            .withRedundancy(mode);
    new Watch(coordinators, settings.withDuration(Duration.ofSeconds(5)))
        .run(o -> {}, x -> {}, Duration.ofSeconds(5));
    Histogram latency = new Histogram(3);
    Summary s =
        new Watch(coordinators, settings)
            .run(
                (Outcome o) -> {
                  if (!o.failed()) {
                    synchronized (latency) {
                      latency.recordValue(Math.max(1, o.latencyNanos() / 1_000));
                    }
                  }
                },
                x -> {},
                Duration.ofSeconds(5));
    System.err.printf(
        Locale.ROOT,
        "%s, %s: %d answers, p99 %.1f ms, %s extra attempts%n",
        scenario,
        RedundancyWords.describe(mode),
        s.ok(),
        latency.getValueAtPercentile(99) / 1000.0,
        pct(s.extraAttemptsPerAnswer()));
    runs.add(new Run(scenario, RedundancyWords.describe(mode), latency, s));
  }

  private void printLatencyTable(List<Run> runs) {
    System.out.printf(
        Locale.ROOT,
        "Tail latency by mode: echo tasks of 0-10 ms, %.0f requests/s for %d s per row, 5 nodes,"
            + " 2 coordinators%n%n",
        rate,
        seconds);
    System.out.println(
        "| scenario | mode | p50 ms | p99 ms | p99.9 ms | max ms | extra attempts | failed |"
            + " wrong |");
    System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (Run r : runs) {
      Histogram h = r.latency();
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %.1f | %.1f | %.1f | %.1f | %s | %d | %d |%n",
          r.scenario(),
          r.mode(),
          h.getValueAtPercentile(50) / 1000.0,
          h.getValueAtPercentile(99) / 1000.0,
          h.getValueAtPercentile(99.9) / 1000.0,
          h.getMaxValue() / 1000.0,
          pct(r.summary().extraAttemptsPerAnswer()),
          r.summary().failed(),
          r.summary().wrong());
    }
  }

  /** As many prime counts as 16 clients can get done in 10 s, in each mode. */
  private void printThroughput(Coordinators coordinators, List<Redundancy> modes)
      throws InterruptedException {
    System.out.printf(
        Locale.ROOT,
        "%nThroughput on CPU work: prime counts of 200,000 numbers, 16 in flight, 10 s per"
            + " mode%n%n");
    System.out.println("| mode | answers/s | vs failover | attempts per answer | p50 ms |");
    System.out.println("|---|---:|---:|---:|---:|");
    double base = 0;
    for (Redundancy r : modes) {
      Watch.Settings settings =
          Watch.Settings.DEFAULT
              .withRate(0)
              .withConcurrency(16)
              .withDuration(Duration.ofSeconds(10))
              .withTasks(new TaskMix("primes", 3, 200_000, 0))
              .withRedundancy(r);
      Summary s = new Watch(coordinators, settings).run(o -> {}, x -> {}, Duration.ofSeconds(5));
      double perSecond = s.ok() / s.durationS();
      if (base == 0) {
        base = perSecond;
      }
      System.out.printf(
          Locale.ROOT,
          "| %s | %.0f | %.2fx | %.2f | %.1f |%n",
          RedundancyWords.describe(r),
          perSecond,
          perSecond / base,
          1 + s.extraAttemptsPerAnswer(),
          s.p50Ms());
    }
  }

  private static String pct(double fraction) {
    return String.format(Locale.ROOT, "%.1f%%", fraction * 100);
  }
}
