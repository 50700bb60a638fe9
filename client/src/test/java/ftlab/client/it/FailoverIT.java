package ftlab.client.it;

import static ftlab.proto.NodeState.ALIVE;
import static ftlab.proto.NodeState.DEAD;
import static ftlab.proto.NodeState.LEFT;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Real processes, real signals: each test starts coordinators and nodes as separate JVMs from the
 * built jars, puts a steady checked load on them, breaks something the way a learner would ({@code
 * kill -9}, {@code kill -STOP}, {@code kill}), and checks that the client never saw a failure or a
 * wrong answer, that the coordinators saw what happened (docs/architecture.md, "Node states"), and
 * that the cluster recovers.
 */
class FailoverIT {
  private static final Duration DETECT = Duration.ofSeconds(5);
  private static final Duration RECOVER = Duration.ofSeconds(30);

  @Test
  void sigkillOfANodeIsDetectedAndRoutedAround() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3)) {
      ClusterProbe p = c.probe;
      p.startLoad();
      p.awaitMoreAnswers(40);
      Map<String, Long> suspected = p.suspicions("node-2");
      long fault = System.nanoTime();

      c.cluster.signal("node-2", "KILL");

      p.awaitState("node-2", DEAD, DETECT);
      p.awaitMoreAnswers(60); // answers go on without node-2
      p.assertSuspectedAgainSince("node-2", suspected); // ALIVE -> SUSPECT -> DEAD

      c.cluster.start("node-2"); // a new process: a new incarnation
      p.awaitState("node-2", ALIVE, RECOVER);
      p.awaitMoreAnswersFrom("node-2", 10);

      p.stopLoadAndAssertNoClientVisibleFailure();
      assertThat(p.statesSeen("node-1", fault)).doesNotContain(DEAD);
      assertThat(p.statesSeen("node-3", fault)).doesNotContain(DEAD);
    }
  }

  @Test
  void sigstopOfANodeIsDetectedAndSigcontBringsItBack() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3)) {
      ClusterProbe p = c.probe;
      p.startLoad();
      p.awaitMoreAnswers(40);
      Map<String, Long> suspected = p.suspicions("node-3");

      c.cluster.signal("node-3", "STOP"); // frozen: the port still accepts connections

      p.awaitState("node-3", DEAD, DETECT);
      p.awaitMoreAnswers(60);
      p.assertSuspectedAgainSince("node-3", suspected); // ALIVE -> SUSPECT -> DEAD

      c.cluster.signal("node-3", "CONT"); // the same process, the same incarnation, resumes
      p.awaitState("node-3", ALIVE, RECOVER);
      p.awaitMoreAnswersFrom("node-3", 10);

      p.stopLoadAndAssertNoClientVisibleFailure();
    }
  }

  @Test
  void sigtermOfANodeIsAGracefulLeaveNotAFailure() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3)) {
      ClusterProbe p = c.probe;
      p.startLoad();
      p.awaitMoreAnswers(40);
      Map<String, Long> suspected = p.suspicions("node-1");
      long fault = System.nanoTime();

      c.cluster.signal("node-1", "TERM");

      p.awaitState("node-1", LEFT, DETECT);
      c.awaitExit("node-1", Duration.ofSeconds(10));
      p.awaitMoreAnswers(60);
      // it said goodbye: LEFT, and never SUSPECT (the coordinators' own count) or DEAD on the way
      assertThat(p.statesSeen("node-1", fault)).containsExactly(LEFT);
      assertThat(p.suspicions("node-1")).isEqualTo(suspected);

      c.cluster.start("node-1");
      p.awaitState("node-1", ALIVE, RECOVER);
      p.awaitMoreAnswersFrom("node-1", 10);

      p.stopLoadAndAssertNoClientVisibleFailure();
    }
  }

  @Test
  void twoOfThreeNodesKilledAtOnce() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3)) {
      ClusterProbe p = c.probe;
      p.startLoad();
      p.awaitMoreAnswers(40);

      c.cluster.signal("node-1", "KILL");
      c.cluster.signal("node-2", "KILL");

      p.awaitState("node-1", DEAD, DETECT);
      p.awaitState("node-2", DEAD, DETECT);
      p.awaitMoreAnswersFrom("node-3", 60); // the survivor carries the whole load

      c.cluster.start("node-1");
      c.cluster.start("node-2");
      p.awaitState("node-1", ALIVE, RECOVER);
      p.awaitState("node-2", ALIVE, RECOVER);
      p.awaitMoreAnswersFrom("node-1", 10);
      p.awaitMoreAnswersFrom("node-2", 10);

      p.stopLoadAndAssertNoClientVisibleFailure();
    }
  }

  @Test
  void stoppingOneOfTwoCoordinatorsLosesNoRequest() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3)) {
      ClusterProbe p = c.probe;
      p.startLoad();
      p.awaitMoreAnswersVia("coordinator-1", 20);
      p.awaitMoreAnswersVia("coordinator-2", 20);

      c.cluster.signal("coordinator-1", "TERM");
      c.awaitExit("coordinator-1", Duration.ofSeconds(10));
      p.awaitMoreAnswersVia("coordinator-2", 80); // all through coordinator-2 now

      c.cluster.start("coordinator-1");
      // the nodes keep beating to it, so it rebuilds its view on its own
      for (String node : List.of("node-1", "node-2", "node-3")) {
        p.awaitState(node, ALIVE, List.of("coordinator-1"), RECOVER);
      }
      // and the client goes back to it: the load is shared again
      p.awaitMoreAnswersVia("coordinator-1", 20);

      // Requests on their way to coordinator-1 when it stopped may count as coordinator
      // failovers; none may fail. (A graceful stop closes the connection, so the client usually
      // sees it go and sends nothing there: zero failovers is the common case.)
      p.stopLoadAndAssertNoClientVisibleFailure();
    }
  }
}
