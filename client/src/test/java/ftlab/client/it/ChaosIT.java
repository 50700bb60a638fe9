package ftlab.client.it;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.proto.FaultsReply;
import ftlab.proto.GetFaultsRequest;
import ftlab.proto.NodeAdminGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code ftlab chaos} as a user runs it, on a real local cluster (2 coordinators, 2 nodes): faults
 * injected into a running node through its admin service, the node's own account of them, and what
 * the coordinators noticed. Design doc: faults.proto.
 */
class ChaosIT {
  private RunningCluster cluster;
  private ManagedChannel toNode2;

  @AfterEach
  void stop() throws Exception {
    if (toNode2 != null) {
      toNode2.shutdownNow();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private FtlabCli.Run ftlab(String... args) throws Exception {
    // no --coordinators: the CLI finds the cluster through its state folder
    return FtlabCli.run(cluster.cluster.stateDir(), args);
  }

  /** node-2's faults, from the node itself, past the CLI. */
  private FaultsReply node2Faults() {
    return NodeAdminGrpc.newBlockingStub(toNode2)
        .withDeadlineAfter(2, TimeUnit.SECONDS)
        .getFaults(GetFaultsRequest.getDefaultInstance());
  }

  @Test
  void injectShowAndHealFaultsInARunningNode() throws Exception {
    cluster = new RunningCluster(2, 2);
    String node2 = cluster.cluster.member("node-2").address();
    toNode2 = Grpc.newChannelBuilder(node2, InsecureChannelCredentials.create()).build();

    FtlabCli.Run lie = ftlab("chaos", "node-2", "lie", "--fraction", "30%", "--wait", "1s");

    assertThat(lie.exit()).isZero();
    assertThat(lie.out()).startsWith("node-2 at " + node2 + ": faults now: lie on 30% of tasks");
    assertThat(node2Faults().getDescription()).isEqualTo("lie on 30% of tasks");
    assertThat(node2Faults().getFaults().getLie().getFraction()).isEqualTo(0.3);
    // one line per coordinator, whether it noticed (from the faults in the node's heartbeats) or
    // not (a coordinator that does not put them in its view)
    for (String c : cluster.probe.coordinatorIds()) {
      assertThat(lie.out()).containsPattern("(" + c + " sees it after|not confirmed by " + c + ")");
    }

    // A frozen node goes silent: every coordinator suspects it, and the CLI sees them do it. (A
    // coordinator that suspected node-2 a moment before the freeze, after a hiccup of a loaded
    // machine, already sees it so: that is the truth too.)
    FtlabCli.Run freeze = ftlab("chaos", "node-2", "freeze");
    assertThat(freeze.out())
        .contains("faults now: lie on 30% of tasks; freeze")
        .containsPattern(
            "coordinator-1 (sees it after \\d+ ms|already sees it): node-2 (SUSPECT|DEAD)")
        .containsPattern(
            "coordinator-2 (sees it after \\d+ ms|already sees it): node-2 (SUSPECT|DEAD)");

    FtlabCli.Run show = ftlab("chaos", "node-2");
    assertThat(show.out())
        .startsWith("node-2 at " + node2 + ": lie on 30% of tasks; freeze")
        .contains("coordinator-1 has node-2 ");

    // Every coordinator had node-2 SUSPECT or DEAD (above), so its coming back is seen after the
    // heal was sent, however the node's first beat and its reply to the CLI are ordered (issue 7):
    // never "already", never before the change.
    FtlabCli.Run heal = ftlab("chaos", "node-2", "heal");
    assertThat(heal.out())
        .contains("healed, no faults (it had lie on 30% of tasks; freeze)")
        .containsPattern("coordinator-1 sees it after \\d+ ms: node-2 ALIVE")
        .containsPattern("coordinator-2 sees it after \\d+ ms: node-2 ALIVE");
    assertThat(node2Faults().getDescription()).isEmpty();
    assertThat(node2Faults().hasFaults()).isTrue();
    assertThat(node2Faults().getFaults().getSerializedSize()).isZero();

    // A crash ends the process without a goodbye: DEAD, not LEFT.
    FtlabCli.Run crash = ftlab("chaos", "node-1", "crash");
    assertThat(crash.out())
        .contains("node-1 at " + cluster.cluster.member("node-1").address() + ": crashing")
        .containsPattern("coordinator-1 (sees it after \\d+ ms|already sees it): node-1 DEAD");
    cluster.awaitExit("node-1", Duration.ofSeconds(5));

    FtlabCli.Run status = ftlab("status");
    assertThat(status.out()).contains("WHY").contains("FAULTS");

    FtlabCli.Run unknown = ftlab("chaos", "node-9", "lie");
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.err())
        .contains("ftlab: no node named 'node-9'; the coordinators know node-1, node-2")
        .doesNotContain("\tat ");

    // a node name that means nothing here (as the Docker lab's node-2 from the host): where to run
    // it instead (.invalid never resolves, RFC 2606)
    FtlabCli.Run unreachable =
        ftlab("chaos", "node-2", "--node-address", "node-2.invalid:7101", "lie", "--wait", "0");
    assertThat(unreachable.exit()).isEqualTo(2);
    assertThat(unreachable.err())
        .contains("ftlab: node-2 at node-2.invalid:7101 did not answer: UNAVAILABLE")
        .contains(
            "The name node-2.invalid is known only where the node runs: in the Docker lab, run"
                + " ftlab inside the lab's network, e.g. `docker compose exec client ftlab chaos"
                + " node-2 ...`")
        .doesNotContain("--node-address HOST:PORT")
        .doesNotContain("\tat ");
  }
}
