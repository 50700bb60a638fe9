package ftlab.client.it;

import static ftlab.proto.NodeState.ALIVE;
import static ftlab.proto.NodeState.DEAD;
import static ftlab.proto.NodeState.QUARANTINED;
import static org.assertj.core.api.Assertions.assertThat;

import ftlab.client.NodeAdmin;
import ftlab.client.RedundancyOption;
import ftlab.client.watch.Outcome;
import ftlab.client.watch.Summary;
import ftlab.proto.Faults;
import ftlab.proto.HowAnswered;
import ftlab.proto.Lie;
import ftlab.proto.NodeView;
import ftlab.proto.Redundancy;
import ftlab.proto.Slow;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The redundancy modes on real processes (docs/redundancy.md), with faults injected into real nodes
 * through their admin service: a slow node under hedged mode, a lying node under vote mode (caught
 * and quarantined) and under failover mode (its lies reach the client, which flags them), and a
 * frozen or muted node under every mode.
 */
class RedundancyIT {
  private static final Duration DETECT = Duration.ofSeconds(5);
  private static final Duration RECOVER = Duration.ofSeconds(30);

  /** Sets the redundancy mode on every coordinator, as {@code ftlab mode} does. */
  private static void mode(ClusterProbe p, String mode, int replicas) {
    Redundancy r = RedundancyOption.parse(mode, replicas);
    for (int i = 0; i < p.coordinators().size(); i++) {
      p.coordinators().setRedundancy(i, r);
    }
  }

  /** Injects faults into a node (none: heals it), as {@code ftlab chaos} does. */
  private static void faults(RunningCluster c, String node, Faults faults) {
    try (NodeAdmin admin = new NodeAdmin(c.cluster.member(node).address())) {
      admin.set(faults);
    }
  }

  /** The node as coordinator i sees it now (asked, not the recorder's last poll). */
  private static NodeView view(ClusterProbe p, int coordinator, String node) {
    return p.coordinators().view(coordinator, 2_000).getNodesList().stream()
        .filter(n -> n.getNodeId().equals(node))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void aSlowNodeIsHedgedAroundWithoutFailures() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3)) {
      ClusterProbe p = c.probe;
      mode(p, "hedged", 0);
      // node-2 stalls for 1 s on 5% of its tasks: a hiccup, the case hedging is made for
      faults(
          c,
          "node-2",
          Faults.newBuilder()
              .setSlow(Slow.newBuilder().setDelayMs(1_000).setFraction(0.05))
              .build());
      p.startLoad();
      p.awaitMoreAnswers(300);
      // node-2 gets about a third of the tasks and stalls on each with a chance of 5%: 300
      // answers bring about 5 stalls on average but none now and then (e^-5, and fewer once the
      // picker steers away from node-2), so the load goes on until a hedge has won
      p.awaitAnswers("won by a hedge", o -> o.answer().getHow() == HowAnswered.HOW_HEDGE, 1);

      Summary s = p.stopLoadAndAssertNoClientVisibleFailure();
      List<Outcome> hedged =
          p.answered().stream().filter(o -> o.answer().getHow() == HowAnswered.HOW_HEDGE).toList();
      assertThat(hedged).as("answers won by a hedge").isNotEmpty();
      // a request hedged away from a stalled node does not wait for its second: the coordinator
      // (timing itself, on its own clock) answered sooner than the stall would have let it
      assertThat(hedged)
          .allSatisfy(o -> assertThat(o.answer().getCoordinatorMicros()).isLessThan(1_000_000L));
      assertThat(s.extraAttemptsPerAnswer()).as("extra attempts").isLessThan(0.25);
    }
  }

  @Test
  void aLyingNodeIsOutvotedAndQuarantinedAndNoWrongAnswerGetsThrough() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 4)) {
      ClusterProbe p = c.probe;
      mode(p, "vote", 3);
      faults(c, "node-2", Faults.newBuilder().setLie(Lie.newBuilder().setFraction(1)).build());
      p.startLoad();

      p.awaitState("node-2", QUARANTINED, List.of("coordinator-1", "coordinator-2"), RECOVER);
      for (int coordinator = 0; coordinator < p.coordinators().size(); coordinator++) {
        assertThat(view(p, coordinator, "node-2").getLastTransitionReason())
            .startsWith("outvoted 3 times in its last 3 votes");
      }
      p.awaitMoreAnswers(120); // the other three vote on without it
      long liesBefore = p.answersBy("node-2");

      Summary s = p.stopLoadAndAssertNoClientVisibleFailure();
      assertThat(s.wrong()).as("wrong answers accepted").isZero();
      assertThat(p.answered())
          .anyMatch(
              o ->
                  o.answer().getHow() == HowAnswered.HOW_VOTE
                      && o.answer().getTally(0).getNodeIdsCount() == 2);

      faults(c, "node-2", Faults.getDefaultInstance());
      for (int i = 0; i < p.coordinators().size(); i++) {
        p.coordinators().readmit(i, "node-2");
      }
      p.awaitState("node-2", ALIVE, RECOVER);
      assertThat(liesBefore).as("node-2 never answered a request itself").isZero();
    }
  }

  @Test
  void withoutVotingTheClientSeesTheLies() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3)) {
      ClusterProbe p = c.probe;
      mode(p, "failover", 0);
      faults(c, "node-3", Faults.newBuilder().setLie(Lie.newBuilder().setFraction(1)).build());
      p.startLoad();
      p.awaitMoreAnswersFrom("node-3", 20);

      Summary s = p.stopLoad();

      // redundancy without comparison does not protect against a node that lies: only the client,
      // which knows the right answer, can tell
      assertThat(s.wrong()).as("WRONG answers the client flagged").isGreaterThanOrEqualTo(20);
      assertThat(p.failures())
          .filteredOn(Outcome::wrong)
          .allSatisfy(o -> assertThat(o.answer().getNodeId()).isEqualTo("node-3"));
      assertThat(s.failed()).isZero();
    }
  }

  @Test
  void aFrozenOrMutedNodeCostsNoRequestInAnyMode() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 4)) {
      ClusterProbe p = c.probe;
      for (String mode : List.of("failover", "hedged", "parallel", "vote")) {
        mode(p, mode, 3);
        p.startLoad();
        p.awaitMoreAnswers(40);

        // frozen: the process and its port stay up, it answers nothing, not even heartbeats
        faults(c, "node-1", Faults.newBuilder().setFreeze(true).build());
        p.awaitState("node-1", DEAD, DETECT);
        p.awaitMoreAnswers(40);
        faults(c, "node-1", Faults.getDefaultInstance());
        p.awaitState("node-1", ALIVE, RECOVER);

        // muted: it still answers tasks, but sends no heartbeats (a one-way partition)
        faults(c, "node-2", Faults.newBuilder().setMuteHeartbeats(true).build());
        p.awaitState("node-2", DEAD, DETECT);
        p.awaitMoreAnswers(40);
        faults(c, "node-2", Faults.getDefaultInstance());
        p.awaitState("node-2", ALIVE, RECOVER);

        System.out.println("[" + mode + "] " + p.stopLoadAndAssertNoClientVisibleFailure());
      }
    }
  }
}
