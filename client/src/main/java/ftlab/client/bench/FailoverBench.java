package ftlab.client.bench;

import ftlab.client.Coordinators;
import ftlab.client.local.Jars;
import ftlab.client.local.LocalCluster;
import ftlab.client.local.LocalLayout;
import ftlab.client.status.ViewRecorder;
import ftlab.client.watch.Outcome;
import ftlab.client.watch.TaskMix;
import ftlab.client.watch.Watch;
import ftlab.proto.ClusterView;
import ftlab.proto.NodeState;
import ftlab.proto.NodeView;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Time to detect and client-visible impact of a node crash (SIGKILL), freeze (SIGSTOP) and graceful
 * stop (SIGTERM), under steady load, on a local cluster of real processes.
 */
@Command(
    name = "failover",
    mixinStandardHelpOptions = true,
    description = {
      "Measure failure detection and failover: for SIGKILL, SIGSTOP and SIGTERM of one node under"
          + " steady load, the time from the signal to DEAD (or LEFT) at each coordinator, the"
          + " client-visible failures, and p50/p99 latency around the fault vs steady state.",
      "Starts its own cluster (2 coordinators, 5 nodes) on free loopback ports and stops it after."
    })
public final class FailoverBench implements Callable<Integer> {

  @Option(
      names = "--rounds",
      defaultValue = "5",
      description = "Faults of each kind. Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Option(
      names = "--rate",
      defaultValue = "50",
      description = "Steady load, requests per second. Default: ${DEFAULT-VALUE}.")
  double rate;

  @Option(names = "--nodes", defaultValue = "5", description = "Default: ${DEFAULT-VALUE}.")
  int nodes;

  /**
   * Latency windows: steady is the 3 s before a fault, "around" the 3 s after it (by the time each
   * request was sent).
   */
  private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(3);

  private record Sample(long sentAtNanos, long latencyNanos, boolean ok) {}

  /** One fault kind: which signal, what the coordinators should conclude, how to undo it. */
  private enum Fault {
    /** A crash: the process is gone, its port refuses connections. Undone by a restart. */
    SIGKILL("KILL", NodeState.DEAD),
    /** A freeze: the process and its port stay, nothing answers. Undone by SIGCONT. */
    SIGSTOP("STOP", NodeState.DEAD),
    /** A graceful stop: the node says goodbye first. Undone by a restart. */
    SIGTERM("TERM", NodeState.LEFT);

    final String signal;
    final NodeState expected;

    Fault(String signal, NodeState expected) {
      this.signal = signal;
      this.expected = expected;
    }
  }

  private record Round(
      Fault fault, long faultAtNanos, List<Double> detectMs, long falseSuspicions) {}

  @Override
  public Integer call() throws Exception {
    if (rounds < 1 || rounds > 50 || nodes < 2 || rate <= 0 || rate > 2_000) {
      throw new IllegalArgumentException(
          "need 1 <= --rounds <= 50, --nodes >= 2 and 0 < --rate <= 2000");
    }
    LocalLayout layout = LocalLayout.onFreePorts(2, nodes, 4);
    LocalCluster cluster =
        new LocalCluster(Files.createTempDirectory("ftlab-bench-failover-"), Jars.locate());
    System.err.println("starting 2 coordinators and " + nodes + " nodes in " + cluster.stateDir());
    cluster.up(layout, Duration.ofSeconds(90), System.err::println);
    ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
    List<Round> done = new ArrayList<>();
    // bounded: about 16 s per round plus warm-up; the watch stops itself after this at the latest
    Duration budget = Duration.ofSeconds(60 + 3L * rounds * 30);
    Watch.Settings settings =
        Watch.Settings.DEFAULT
            .withRate(rate)
            .withConcurrency(8)
            .withDuration(budget)
            .withTasks(new TaskMix("mix", 11, 20_000, 10));
    try (Coordinators coordinators = new Coordinators(layout.coordinatorAddresses());
        ViewRecorder views = new ViewRecorder(coordinators, Duration.ofMillis(5))) {
      Watch load = new Watch(coordinators, settings);
      CompletableFuture<?> running =
          CompletableFuture.runAsync(
              () -> {
                try {
                  load.run(
                      (Outcome o) ->
                          samples.add(
                              new Sample(
                                  System.nanoTime() - o.latencyNanos(), o.latencyNanos(), o.ok())),
                      s -> {},
                      Duration.ofSeconds(5));
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      System.err.println("warming up under load for 10 s");
      TimeUnit.SECONDS.sleep(10);
      List<String> coordinatorIds = List.of(layout.coordinatorName(1), layout.coordinatorName(2));
      for (Fault fault : Fault.values()) {
        for (int r = 0; r < rounds; r++) {
          String victim = layout.nodeName(2 + r % (nodes - 1));
          done.add(round(fault, victim, cluster, views, coordinatorIds));
        }
      }
      load.stop();
      running.get(30, TimeUnit.SECONDS);
    } finally {
      cluster.down(Duration.ofSeconds(10), line -> {});
      cluster.deleteState();
    }
    report(done, new ArrayList<>(samples));
    return 0;
  }

  private Round round(
      Fault fault,
      String victim,
      LocalCluster cluster,
      ViewRecorder views,
      List<String> coordinatorIds)
      throws InterruptedException {
    long suspicionsBefore = suspicionsOfOthers(views, victim);
    long t0 = System.nanoTime();
    cluster.signal(victim, fault.signal);
    List<Double> detect = new ArrayList<>();
    for (String c : coordinatorIds) {
      long deadline = t0 + TimeUnit.SECONDS.toNanos(10);
      while (views.entered(c, victim, fault.expected, t0).isEmpty()
          && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(5);
      }
      views.entered(c, victim, fault.expected, t0).ifPresent(at -> detect.add((at - t0) / 1e6));
    }
    TimeUnit.SECONDS.sleep(3);
    if (fault == Fault.SIGSTOP) {
      cluster.signal(victim, "CONT");
    } else {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (LocalCluster.status(cluster.member(victim)) != LocalCluster.ProcessStatus.EXITED
          && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(20);
      }
      cluster.start(victim);
    }
    long back = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!views.allSee(victim, NodeState.ALIVE, coordinatorIds) && System.nanoTime() < back) {
      TimeUnit.MILLISECONDS.sleep(20);
    }
    TimeUnit.SECONDS.sleep(4); // steady state again before the next fault
    long falseSuspicions = suspicionsOfOthers(views, victim) - suspicionsBefore;
    System.err.printf(
        Locale.ROOT,
        "%s of %s: detected after %s ms; false suspicions of other nodes: %d%n",
        fault,
        victim,
        detect,
        falseSuspicions);
    return new Round(fault, t0, detect, falseSuspicions);
  }

  /** Times any coordinator has suspected a node other than the victim. */
  private static long suspicionsOfOthers(ViewRecorder views, String victim) {
    long n = 0;
    for (ClusterView v : views.latest().values()) {
      for (NodeView node : v.getNodesList()) {
        if (!node.getNodeId().equals(victim)) {
          n += node.getTimesSuspected();
        }
      }
    }
    return n;
  }

  private void report(List<Round> rounds, List<Sample> samples) {
    System.out.printf(
        Locale.ROOT,
        "Failover under load: %d faults of each kind, %.0f requests/s, %d nodes, 2 coordinators;"
            + " detection = signal to DEAD/LEFT at each coordinator%n%n",
        this.rounds,
        rate,
        nodes);
    System.out.println(
        "| fault | detect median ms | detect min-max ms | client-visible failures | steady p50 / p99 ms"
            + " | around fault p50 / p99 / max ms | false suspicions |");
    System.out.println("|---|---:|---:|---:|---:|---:|---:|");
    for (Fault fault : Fault.values()) {
      List<Round> mine = rounds.stream().filter(r -> r.fault() == fault).toList();
      List<Double> detect = new ArrayList<>();
      mine.forEach(r -> detect.addAll(r.detectMs()));
      Collections.sort(detect);
      Histogram steady = new Histogram(3);
      Histogram around = new Histogram(3);
      long failures = 0;
      for (Round r : mine) {
        for (Sample s : samples) {
          long dt = s.sentAtNanos() - r.faultAtNanos();
          if (dt >= -WINDOW_NANOS && dt < 0) {
            steady.recordValue(Math.max(1, s.latencyNanos() / 1_000));
          } else if (dt >= 0 && dt < WINDOW_NANOS) {
            around.recordValue(Math.max(1, s.latencyNanos() / 1_000));
            if (!s.ok()) {
              failures++;
            }
          }
        }
      }
      // client-visible failures are counted in the 3 s after each fault; the whole run's total is
      // printed below the table
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %s | %d | %s | %s | %d |%n",
          fault,
          detect.isEmpty() ? "not detected" : String.format(Locale.ROOT, "%.0f", median(detect)),
          detect.isEmpty()
              ? "-"
              : String.format(
                  Locale.ROOT, "%.0f-%.0f", detect.get(0), detect.get(detect.size() - 1)),
          failures,
          pair(steady, false),
          pair(around, true),
          mine.stream().mapToLong(Round::falseSuspicions).sum());
    }
    long total = samples.size();
    long bad = samples.stream().filter(s -> !s.ok()).count();
    System.out.printf("%nWhole run: %d requests, %d failed or wrong.%n", total, bad);
  }

  /** "p50 / p99", or "p50 / p99 / max": the max is the one request that waited longest. */
  private static String pair(Histogram h, boolean withMax) {
    if (h.getTotalCount() == 0) {
      return "-";
    }
    String s =
        String.format(
            Locale.ROOT,
            "%.1f / %.1f",
            h.getValueAtPercentile(50) / 1000.0,
            h.getValueAtPercentile(99) / 1000.0);
    return withMax ? s + String.format(Locale.ROOT, " / %.0f", h.getMaxValue() / 1000.0) : s;
  }

  private static double median(List<Double> sorted) {
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }
}
