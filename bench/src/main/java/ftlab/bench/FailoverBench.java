package ftlab.bench;

import ftlab.client.Poll;
import ftlab.client.local.Jars;
import ftlab.client.local.LocalCluster;
import ftlab.client.local.LocalLayout;
import ftlab.client.local.MemberProcess;
import ftlab.proto.NodeState;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
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
   * Signals to local processes: {@code kill -9} (a crash), {@code kill -STOP} (a freeze), {@code
   * kill} (a graceful stop); undone by a restart or {@code kill -CONT}.
   */
  static List<Fault> signals(LocalCluster cluster) {
    Fault.Action restart = node -> restartWhenExited(cluster, node);
    return List.of(
        new Fault("SIGKILL", NodeState.DEAD, n -> cluster.signal(n, "KILL"), restart),
        new Fault(
            "SIGSTOP",
            NodeState.DEAD,
            n -> cluster.signal(n, "STOP"),
            n -> cluster.signal(n, "CONT")),
        new Fault("SIGTERM", NodeState.LEFT, n -> cluster.signal(n, "TERM"), restart));
  }

  /** Starts the node again once its process has exited (at most 15 s from now). */
  static void restartWhenExited(LocalCluster cluster, String node) throws InterruptedException {
    Poll.untilTrue(
        Duration.ofSeconds(15),
        Duration.ofMillis(20),
        () -> MemberProcess.status(cluster.member(node)) == MemberProcess.ProcessStatus.EXITED);
    cluster.start(node);
  }

  @Override
  public Integer call() throws Exception {
    if (nodes < 2 || nodes > 20) {
      throw new IllegalArgumentException("--nodes must be between 2 and 20, got " + nodes);
    }
    LocalLayout layout = LocalLayout.onFreePorts(2, nodes, 4);
    LocalCluster cluster =
        new LocalCluster(Files.createTempDirectory("ftlab-bench-failover-"), Jars.locate());
    List<String> nodeIds = new ArrayList<>();
    for (int i = 1; i <= nodes; i++) {
      nodeIds.add(layout.nodeName(i));
    }
    FailoverRounds measure =
        new FailoverRounds(
            layout.coordinatorAddresses(),
            List.of(layout.coordinatorName(1), layout.coordinatorName(2)),
            nodeIds,
            signals(cluster),
            rounds,
            rate);
    System.err.println("starting 2 coordinators and " + nodes + " nodes in " + cluster.stateDir());
    cluster.up(layout, Duration.ofSeconds(90), System.err::println);
    try {
      measure.run(
          String.format(
              Locale.ROOT,
              "Failover under load: %d faults of each kind, %.0f requests/s, %d nodes, 2"
                  + " coordinators; detection = signal to DEAD/LEFT at each coordinator",
              rounds,
              rate,
              nodes),
          () -> {});
    } finally {
      cluster.down(Duration.ofSeconds(10), line -> {});
      cluster.deleteState();
    }
    return 0;
  }
}
