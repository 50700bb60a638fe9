package ftlab.coordinator.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.proto.RedundancyMode;
import ftlab.proto.TaskResult;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The pure parts of the redundancy modes: the mode's rules, the tally, the hedge policy. */
class RedundancyPiecesTest {
  private static final long MS = 1_000_000L;

  private static TaskResult count(long n) {
    return TaskResult.newBuilder().setPrimeCount(n).build();
  }

  @Test
  void redundancyChecksReplicasPerMode() {
    assertThat(new Redundancy(RedundancyMode.VOTE, 3).majority()).isEqualTo(2);
    assertThat(new Redundancy(RedundancyMode.VOTE, 4).majority()).isEqualTo(3);
    assertThat(new Redundancy(RedundancyMode.VOTE, 5).describe()).isEqualTo("vote x5");
    assertThat(new Redundancy(RedundancyMode.HEDGED, 7).describe())
        .as("replicas mean nothing to hedged")
        .isEqualTo("hedged");
    assertThatThrownBy(() -> new Redundancy(RedundancyMode.VOTE, 2))
        .hasMessage("replicas for vote must be between 3 and 9, got 2");
    assertThatThrownBy(() -> new Redundancy(RedundancyMode.PARALLEL, 1))
        .hasMessage("replicas for parallel must be between 2 and 9, got 1");
    assertThatThrownBy(() -> new Redundancy(RedundancyMode.REDUNDANCY_MODE_UNSPECIFIED, 3))
        .hasMessageStartingWith("redundancy mode must be one of failover, hedged, parallel, vote");
    assertThat(
            Redundancy.fromProto(
                ftlab.proto.Redundancy.newBuilder().setMode(RedundancyMode.VOTE).build(), 5))
        .as("replicas 0 means the coordinator's own")
        .isEqualTo(new Redundancy(RedundancyMode.VOTE, 5));
  }

  @Test
  void aCoordinatorInFailoverKeepsItsReplicasForWhenItSwitches() {
    // FTLAB_MODE=failover, FTLAB_REPLICAS=5: the 5 is not dropped
    Redundancy own = new Redundancy(RedundancyMode.FAILOVER, 5);
    assertThat(own.replicas()).isEqualTo(5);
    assertThat(own.nodesPerRequest()).isEqualTo(1);
    assertThat(own.describe()).isEqualTo("failover");
    // 'ftlab mode vote' (no count) and a request asking for parallel without one get the 5
    ftlab.proto.Redundancy vote =
        ftlab.proto.Redundancy.newBuilder().setMode(RedundancyMode.VOTE).build();
    assertThat(Redundancy.fromProto(vote, own.replicas()).describe()).isEqualTo("vote x5");
    assertThat(Redundancy.fromProto(vote, own.replicas()).nodesPerRequest()).isEqualTo(5);
    assertThatThrownBy(() -> new Redundancy(RedundancyMode.FAILOVER, 0))
        .hasMessage("replicas for failover must be between 1 and 9, got 0");
    // 'ftlab mode hedged --replicas 1': a count means nothing to hedged; the coordinator's stays
    ftlab.proto.Redundancy hedgedOfOne =
        ftlab.proto.Redundancy.newBuilder().setMode(RedundancyMode.HEDGED).setReplicas(1).build();
    assertThat(Redundancy.fromProto(hedgedOfOne, own.replicas()).replicas()).isEqualTo(5);
  }

  @Test
  void aTallyFindsTheMajorityAndTheDissenters() {
    VoteTally t = new VoteTally();
    t.add("node-1", count(25));
    t.add("node-2", count(26));
    assertThat(t.winner(2)).isEmpty();
    assertThat(t.leaderCount()).isEqualTo(1);
    t.add("node-3", count(25));

    assertThat(t.winner(2)).contains(count(25));
    assertThat(t.outvoted(count(25)))
        .containsEntry("node-1", false)
        .containsEntry("node-2", true)
        .containsEntry("node-3", false);
    assertThat(t.describe()).isEqualTo("2 votes for 25 (node-1, node-3), 1 for 26 (node-2)");
    assertThat(t.voters()).containsExactlyInAnyOrder("node-1", "node-2", "node-3");
  }

  @Test
  void theHedgeDelayFollowsThePercentileOfRecentExtraTime() {
    HedgePolicy.State s =
        new HedgePolicy(95, Duration.ofMillis(2), Duration.ofMillis(50), 0.05, 10).newState();
    assertThat(s.delayNanos(0)).as("before enough samples").isEqualTo(50 * MS);

    // 96 attempts 3 ms and 4 attempts 40 ms beyond their task's expected 10 ms: fewer than 5% slow
    for (int i = 0; i < 100; i++) {
      s.recordLatency((10 + (i % 25 == 0 ? 40 : 3)) * MS, 10 * MS);
    }

    assertThat(s.baseDelayNanos()).isEqualTo(3 * MS); // the p95 is still a 3 ms one
    assertThat(s.delayNanos(10 * MS)).as("plus the task's own expected time").isEqualTo(13 * MS);
    for (int i = 0; i < 32; i++) {
      s.recordLatency(50 * MS, 10 * MS); // then a run of slow ones: over 5% now
    }
    assertThat(s.baseDelayNanos()).isEqualTo(40 * MS);
  }

  @Test
  void theHedgeDelayNeverGoesBelowTheMinimum() {
    HedgePolicy.State s =
        new HedgePolicy(95, Duration.ofMillis(2), Duration.ofMillis(50), 0.05, 10).newState();
    for (int i = 0; i < 64; i++) {
      s.recordLatency(100_000, 0); // 0.1 ms: faster than the minimum
    }
    assertThat(s.baseDelayNanos()).isEqualTo(2 * MS);
  }

  @Test
  void theBudgetAllowsAboutOneHedgeInTwentyRequests() {
    HedgePolicy.State s =
        new HedgePolicy(95, Duration.ofMillis(2), Duration.ofMillis(50), 0.05, 1).newState();
    assertThat(s.tryHedge()).as("starts with no token: hedges are earned").isFalse();
    int hedges = 0;
    for (int i = 0; i < 1_000; i++) {
      s.onRequest();
      if (s.tryHedge()) {
        hedges++;
      }
    }
    assertThat(hedges).isEqualTo(50); // 5% of 1,000, never more
  }
}
