package ftlab.coordinator.membership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.coordinator.membership.MembershipEvent.Transition;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The membership state machine and failure detector, driven by a fake clock (docs/architecture.md,
 * "The failure detector"). Default thresholds: SUSPECT after 3 x 100 ms, DEAD after 6 x 100 ms.
 */
class MembershipTest {
  private static final long MS = 1_000_000L;

  private final Membership membership = new Membership(DetectorConfig.DEFAULT);

  /** The coordinator's wall clock: incarnations in these tests are far behind it. */
  private static final long WALL = 1_800_000_000_000L;

  private long now = 1_000 * MS; // arbitrary; nanoTime has no meaningful origin
  private final List<MembershipEvent> events = new ArrayList<>();

  private void beat(String node, long incarnation, long sequence) {
    events.addAll(
        membership.onHeartbeat(
            new Heartbeat(node, "127.0.0.1:7101", incarnation, sequence, 0, 4), now, WALL));
  }

  /** Advances the fake clock in small steps, running the detector as the coordinator would. */
  private void advance(long millis) {
    for (long t = 0; t < millis; t += 10) {
      now += 10 * MS;
      events.addAll(membership.tick(now));
    }
  }

  private NodeState state(String node) {
    return membership.node(node, now).orElseThrow().state();
  }

  private List<String> transitions() {
    return events.stream()
        .filter(e -> e instanceof Transition)
        .map(MembershipEvent::describe)
        .toList();
  }

  @Test
  void firstHeartbeatJoinsAlive() {
    beat("node-1", 7, 1);
    assertThat(state("node-1")).isEqualTo(NodeState.ALIVE);
    assertThat(transitions())
        .containsExactly("node-1 joined as ALIVE: first heartbeat (incarnation 7, 127.0.0.1:7101)");
  }

  @Test
  void silenceMakesSuspectThenDeadWithReadableReasons() {
    beat("node-3", 1, 1);
    advance(300);
    assertThat(state("node-3")).isEqualTo(NodeState.ALIVE); // 300 ms is not more than 3 x 100 ms
    advance(10);
    assertThat(state("node-3")).isEqualTo(NodeState.SUSPECT);
    advance(290);
    assertThat(state("node-3")).isEqualTo(NodeState.SUSPECT);
    advance(10);
    assertThat(state("node-3")).isEqualTo(NodeState.DEAD);
    assertThat(transitions())
        .containsExactly(
            "node-3 joined as ALIVE: first heartbeat (incarnation 1, 127.0.0.1:7101)",
            "node-3 ALIVE -> SUSPECT: no heartbeat for 310 ms (threshold 3 x 100 ms)",
            "node-3 SUSPECT -> DEAD: no heartbeat for 610 ms (threshold 6 x 100 ms)");
  }

  @Test
  void jitterBelowTheThresholdNeverSuspects() {
    Random random = new Random(42);
    long seq = 1;
    beat("node-1", 1, seq);
    for (int i = 0; i < 2_000; i++) {
      // beats nominally every 100 ms, each up to 190 ms late: gaps from 10 to 290 ms
      advance(10 + 10 * random.nextInt(29));
      beat("node-1", 1, ++seq);
    }
    assertThat(state("node-1")).isEqualTo(NodeState.ALIVE);
    assertThat(transitions()).hasSize(1); // only the join
  }

  @Test
  void heartbeatBringsSuspectAndDeadNodesBack() {
    beat("node-2", 1, 1);
    advance(700);
    assertThat(state("node-2")).isEqualTo(NodeState.DEAD);
    beat("node-2", 1, 2); // SIGCONT: same process, same incarnation, next sequence
    assertThat(state("node-2")).isEqualTo(NodeState.ALIVE);
    assertThat(transitions().get(transitions().size() - 1))
        .isEqualTo("node-2 DEAD -> ALIVE: heartbeat #2 arrived after 700 ms of silence");
  }

  @Test
  void lateHeartbeatFromAnOldIncarnationIsIgnored() {
    beat("node-1", 100, 5);
    advance(400); // killed: silent for more than the suspect threshold
    beat("node-1", 200, 1); // restarted
    advance(700);
    assertThat(state("node-1")).isEqualTo(NodeState.DEAD);
    now += 700 * MS; // this coordinator stalls (no tick) ...
    beat("node-1", 100, 6); // ... and reads a beat of the old process that piled up meanwhile
    assertThat(state("node-1")).isEqualTo(NodeState.DEAD);
    advance(100); // the first ticks after the stall
    beat("node-1", 100, 7); // still reading what piled up: beats arrive in no useful order
    assertThat(state("node-1")).isEqualTo(NodeState.DEAD);
    assertThat(membership.node("node-1", now).orElseThrow().incarnation()).isEqualTo(200);
  }

  @Test
  void reorderedHeartbeatIsIgnored() {
    beat("node-1", 1, 5);
    advance(700);
    beat("node-1", 1, 4); // older than the newest beat already seen
    assertThat(state("node-1")).isEqualTo(NodeState.DEAD);
  }

  @Test
  void leftIsNotDead() {
    beat("node-4", 1, 1);
    events.addAll(membership.onLeave("node-4", 1, "SIGTERM, draining", now));
    assertThat(state("node-4")).isEqualTo(NodeState.LEFT);
    advance(500);
    beat("node-4", 1, 2); // a beat the leaving process sent before it stopped
    assertThat(state("node-4")).isEqualTo(NodeState.LEFT);
    advance(5_000); // silence after a goodbye is expected, not a failure
    assertThat(state("node-4")).isEqualTo(NodeState.LEFT);
    beat("node-4", 2, 1); // the node was started again
    assertThat(state("node-4")).isEqualTo(NodeState.ALIVE);
    assertThat(transitions())
        .containsExactly(
            "node-4 joined as ALIVE: first heartbeat (incarnation 1, 127.0.0.1:7101)",
            "node-4 ALIVE -> LEFT: said goodbye: SIGTERM, draining",
            "node-4 LEFT -> ALIVE: restarted (incarnation 1 -> 2)");
  }

  @Test
  void aComebackSaysWhetherItIsANewProcess() {
    // the coordinator opens fresh connections to a new process (CoordinatorServer.onEvent)
    beat("node-1", 1, 1);
    advance(310); // SUSPECT
    beat("node-1", 1, 2); // the same process again
    beat("node-2", 1, 1);
    advance(310);
    beat("node-2", 2, 1); // restarted while SUSPECT

    List<MembershipEvent.Transition> backs =
        events.stream()
            .filter(e -> e instanceof MembershipEvent.Transition t && t.to() == NodeState.ALIVE)
            .map(e -> (MembershipEvent.Transition) e)
            .filter(t -> t.from() == NodeState.SUSPECT)
            .toList();
    assertThat(backs)
        .extracting(MembershipEvent.Transition::nodeId, MembershipEvent.Transition::newProcess)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("node-1", false),
            org.assertj.core.groups.Tuple.tuple("node-2", true));
  }

  @Test
  void goodbyeFromAnOldIncarnationDoesNotRemoveItsSuccessor() {
    beat("node-1", 1, 1);
    advance(400);
    beat("node-1", 2, 1);
    events.addAll(membership.onLeave("node-1", 1, "late goodbye", now));
    assertThat(state("node-1")).isEqualTo(NodeState.ALIVE);
  }

  @Test
  void failedCallIsEvidenceWithoutWaitingForTheTimer() {
    beat("node-1", 1, 1);
    advance(90);
    beat("node-1", 1, 2);
    advance(150); // past the reconnect grace of 2 x 100 ms since the join
    events.addAll(membership.onCallFailed("node-1", "UNAVAILABLE: connection refused", now));
    assertThat(state("node-1")).isEqualTo(NodeState.SUSPECT);
    advance(100);
    beat("node-1", 1, 3);
    assertThat(state("node-1")).isEqualTo(NodeState.ALIVE);
    assertThat(transitions())
        .contains("node-1 ALIVE -> SUSPECT: a call to it failed: UNAVAILABLE: connection refused");
  }

  @Test
  void aFailedCallRightAfterANodeComesBackIsNotEvidence() {
    beat("node-1", 1, 1);
    advance(700);
    assertThat(state("node-1")).isEqualTo(NodeState.DEAD);
    beat("node-1", 1, 2); // back: the coordinator's connection to it is still being re-made
    events.addAll(membership.onCallFailed("node-1", "UNAVAILABLE: connection refused", now));
    assertThat(state("node-1")).isEqualTo(NodeState.ALIVE);
    advance(100);
    beat("node-1", 1, 3);
    advance(110); // 210 ms after it came back: a failure counts again
    events.addAll(membership.onCallFailed("node-1", "UNAVAILABLE: connection refused", now));
    assertThat(state("node-1")).isEqualTo(NodeState.SUSPECT);
  }

  @Test
  void restartWhileAliveIsReportedWithoutAStateChange() {
    beat("node-1", 1, 9);
    // silent for more than the suspect threshold, and back as a new process before the
    // detector's next tick judged the silence (rare: it ticks every 25 ms)
    now += 350 * MS;
    beat("node-1", 2, 1);
    assertThat(state("node-1")).isEqualTo(NodeState.ALIVE);
    assertThat(events.get(events.size() - 1))
        .isEqualTo(new MembershipEvent.Restarted("node-1", 1, 2));
  }

  @Test
  void aStalledDetectorDoesNotBlameTheNodes() {
    beat("node-1", 1, 1);
    beat("node-2", 1, 1);
    advance(50);
    now += 2_000 * MS; // the coordinator itself was frozen for 2 s
    events.addAll(membership.tick(now));
    assertThat(state("node-1")).isEqualTo(NodeState.ALIVE);
    assertThat(events).contains(new MembershipEvent.DetectorStalled(2_000));
    // but a node that really stays silent is still detected, one full window later
    advance(200);
    beat("node-2", 1, 2);
    advance(110);
    assertThat(state("node-1")).isEqualTo(NodeState.SUSPECT);
    assertThat(state("node-2")).isEqualTo(NodeState.ALIVE);
  }

  @Test
  void transitionTableRejectsIllegalMoves() {
    assertThat(NodeState.ALIVE.canBecome(NodeState.DEAD)).isFalse();
    assertThat(NodeState.LEFT.canBecome(NodeState.DEAD)).isFalse();
    assertThat(NodeState.DEAD.canBecome(NodeState.SUSPECT)).isFalse();
    assertThat(NodeState.SUSPECT.canBecome(NodeState.SUSPECT)).isFalse();
    assertThatThrownBy(() -> new Transition("node-1", NodeState.ALIVE, NodeState.DEAD, "test"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("illegal transition for node-1: ALIVE -> DEAD (test)");
  }

  @Test
  void configChecksItsInvariants() {
    assertThatThrownBy(() -> new DetectorConfig(java.time.Duration.ofMillis(100), 3, 3))
        .hasMessage("dead-after (3 beats) must be more than suspect-after (3 beats)");
    assertThatThrownBy(() -> new DetectorConfig(java.time.Duration.ZERO, 3, 6))
        .hasMessage("heartbeat interval must be positive, got 0 ms");
  }

  @Test
  void nodesAreListedInNaturalOrder() {
    beat("node-10", 1, 1);
    beat("node-2", 1, 1);
    beat("node-1", 1, 1);
    assertThat(membership.nodes(now).stream().map(NodeSnapshot::nodeId))
        .containsExactly("node-1", "node-2", "node-10");
  }
}
