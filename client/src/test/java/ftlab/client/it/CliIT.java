package ftlab.client.it;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.client.local.LocalCluster;
import ftlab.client.local.LocalLayout;
import ftlab.client.watch.Summary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code ftlab} CLI as a user runs it: the client fat jar started as a process, driving a local
 * cluster of real processes through {@code local up}, {@code local ps}, {@code watch --json},
 * {@code status}, {@code local scale} and {@code local down}.
 */
class CliIT {
  private Path dir;

  private FtlabCli.Run ftlab(String... args) throws IOException, InterruptedException {
    return FtlabCli.run(dir, args);
  }

  @AfterEach
  void down() throws Exception {
    if (dir != null) {
      ftlab("local", "down");
    }
  }

  @AfterEach
  void deleteState() {
    if (state != null) {
      new LocalCluster(state, null).deleteState();
    }
  }

  /** This test's state folder, deleted after it (dir is cleared once the cluster is down). */
  private Path state;

  @Test
  void localClusterWatchStatusAndDown() throws Exception {
    dir = Files.createTempDirectory("ftlab-cli-");
    state = dir;
    LocalLayout ports = LocalLayout.onFreePorts(2, 5, 4); // free for the 5 nodes it scales to

    FtlabCli.Run up =
        ftlab(
            "local",
            "up",
            "--nodes",
            "3",
            "--base-port",
            "" + ports.coordinatorBasePort(),
            "--node-base-port",
            "" + ports.nodeBasePort());
    assertThat(up.exit()).isZero();
    assertThat(up.out()).contains("cluster ready in").contains("node-3");

    FtlabCli.Run ps = ftlab("local", "ps");
    assertThat(ps.out().lines().filter(l -> l.contains(" running")).count()).isEqualTo(5);

    // no address given: watch finds the local cluster through FTLAB_LOCAL_DIR
    FtlabCli.Run watch = ftlab("watch", "--count", "60", "--rate", "40", "--json");
    assertThat(watch.exit()).isZero();
    Summary s = Summary.fromJson(watch.out().strip());
    assertThat(s.sent()).isEqualTo(60);
    assertThat(s.ok()).isEqualTo(60);
    assertThat(s.byNode().keySet()).containsExactlyInAnyOrder("node-1", "node-2", "node-3");
    assertThat(watch.err()).contains("verified").contains("== PASS");

    FtlabCli.Run status = ftlab("status");
    assertThat(status.exit()).isZero();
    assertThat(status.out())
        .contains("coordinator-1 at 127.0.0.1:" + ports.coordinatorBasePort())
        .contains("coordinator-2")
        .containsPattern("node-2 +ALIVE");

    // scale out: two nodes started like node-1, on the next ports, that join by heartbeat
    FtlabCli.Run out = ftlab("local", "scale", "5");
    assertThat(out.exit()).as(out.err()).isZero();
    assertThat(out.out())
        .contains("started node-4")
        .contains("port " + (ports.nodeBasePort() + 4))
        .contains("every coordinator sees node-4, node-5 ALIVE after")
        .contains("the cluster has 5 nodes");
    assertThat(ftlab("local", "ps").out().lines().filter(l -> l.contains(" running")).count())
        .isEqualTo(7);
    Summary five = Summary.fromJson(ftlab("watch", "--count", "60", "--json").out().strip());
    assertThat(five.ok()).isEqualTo(60);
    assertThat(five.byNode()).containsKey("node-5"); // 60 picks among 5: all miss it 1 in 10^6
    // scale in: the newest nodes leave gracefully, and are gone from the cluster
    FtlabCli.Run in = ftlab("local", "scale", "2");
    assertThat(in.out())
        .contains("stopped node-3")
        .contains("stopped node-5")
        .contains("the cluster has 2 nodes");
    assertThat(ftlab("status").out())
        .containsPattern("node-5 +LEFT")
        .containsPattern("node-2 +ALIVE");
    assertThat(ftlab("local", "ps").out()).doesNotContain("node-3");
    assertThat(ftlab("local", "scale", "2").out()).contains("has 2 nodes already: nothing to do");
    FtlabCli.Run none = ftlab("local", "scale", "0");
    assertThat(none.out()).as("nothing is stopped before the mistake is said").isEmpty();
    assertThat(none.exit()).isEqualTo(2);
    assertThat(none.err()).contains("NODES must be between 1 and 50").doesNotContain("\tat ");

    FtlabCli.Run again = ftlab("local", "up", "--nodes", "3");
    assertThat(again.exit()).isEqualTo(2);
    assertThat(again.err()).contains("a local cluster is already running").doesNotContain("\tat ");

    FtlabCli.Run down = ftlab("local", "down");
    assertThat(down.out()).contains("local cluster stopped");
    assertThat(ftlab("local", "ps").out()).contains("no local cluster");
    dir = null;
  }

  @Test
  void errorsAreOneSentenceWithoutAStackTrace() throws Exception {
    dir = Files.createTempDirectory("ftlab-cli-");
    state = dir;
    FtlabCli.Run noCluster = ftlab("watch", "--count", "1");
    assertThat(noCluster.exit()).isEqualTo(2);
    assertThat(noCluster.err())
        .contains("ftlab: no coordinator given and no local cluster is running")
        .doesNotContain("\tat ");

    FtlabCli.Run badRate = ftlab("watch", "-c", "127.0.0.1:1", "--rate", "-3");
    assertThat(badRate.exit()).isEqualTo(2);
    assertThat(badRate.err()).contains("rate must be between 0 and 100000 per second, got -3.0");

    FtlabCli.Run verbose = ftlab("watch", "-c", "127.0.0.1:1", "--rate", "-3", "--verbose");
    assertThat(verbose.err()).contains("\tat ");
    FtlabCli.Run nestedVerbose = ftlab("local", "up", "--nodes", "0", "--verbose");
    assertThat(nestedVerbose.err())
        .contains("number of nodes must be between 1 and 50, got 0")
        .contains("\tat ");

    FtlabCli.Run badPort = ftlab("watch", "-c", "127.0.0.1:99999", "--count", "1");
    assertThat(badPort.exit()).isEqualTo(2);
    assertThat(badPort.err())
        .contains("ftlab: port out of range in '127.0.0.1:99999': 99999")
        .doesNotContain("\tat ");

    // nothing listens on port 1: the request fails, clearly, and the exit code says so
    FtlabCli.Run unreachable =
        ftlab("watch", "-c", "127.0.0.1:1", "--count", "1", "--timeout", "1s", "--json");
    assertThat(unreachable.exit()).isEqualTo(1);
    assertThat(Summary.fromJson(unreachable.out().strip()).failed()).isEqualTo(1);
    assertThat(unreachable.err()).contains("FAILED").contains("connection refused");
    dir = null;
  }
}
