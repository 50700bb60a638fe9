package ftlab.client.it;

import static org.awaitility.Awaitility.await;

import ftlab.client.local.Jars;
import ftlab.client.local.LocalCluster;
import ftlab.client.local.LocalLayout;
import ftlab.client.local.Member;
import ftlab.client.local.MemberProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real cluster of JVMs for one test: started from the built fat jars with {@link LocalCluster}
 * (the code behind {@code ftlab local up}) on free loopback ports, in a fresh state folder, watched
 * by a {@link ClusterProbe} (steady checked load, every coordinator's view). {@link #close} ends
 * every process it started, by PID.
 */
final class RunningCluster implements AutoCloseable {
  final LocalCluster cluster;
  final ClusterProbe probe;

  RunningCluster(int coordinators, int nodes) throws Exception {
    this(coordinators, nodes, false);
  }

  /** With {@code tls}: mutual TLS on every link, as {@code ftlab local up --tls}. */
  RunningCluster(int coordinators, int nodes, boolean tls) throws Exception {
    this(coordinators, nodes, tls, new String[0]);
  }

  /** With these options for every coordinator ("--client-rate-limit", "100"). */
  RunningCluster(int coordinators, int nodes, boolean tls, String... coordinatorOptions)
      throws Exception {
    Path dir = Files.createTempDirectory("ftlab-it-");
    LocalLayout layout = LocalLayout.onFreePorts(coordinators, nodes, 4);
    this.cluster = new LocalCluster(dir, Jars.locate()).coordinatorOptions(coordinatorOptions);
    cluster.up(layout, tls, Duration.ofSeconds(90), line -> System.out.println("[up] " + line));
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= coordinators; i++) {
      ids.add(layout.coordinatorName(i));
    }
    this.probe =
        new ClusterProbe(layout.coordinatorAddresses(), ids, cluster.credentials("client"));
  }

  /** Waits until the member's process has exited. */
  void awaitExit(String name, Duration atMost) {
    Member m = cluster.member(name);
    await(name + " exits")
        .atMost(atMost)
        .until(() -> MemberProcess.status(m) == MemberProcess.ProcessStatus.EXITED);
  }

  @Override
  public void close() throws Exception {
    probe.close();
    // SIGCONT first: a paused process cannot act on SIGTERM
    cluster.down(Duration.ofSeconds(10), line -> System.out.println("[down] " + line));
    cluster.deleteState();
  }
}
