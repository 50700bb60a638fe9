package ftlab.client.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.proto.ClusterView;
import ftlab.proto.Faults;
import ftlab.proto.Lie;
import ftlab.proto.NodeState;
import ftlab.proto.NodeView;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * When a coordinator's view shows what {@code ftlab chaos} did, and the lines it prints. Times are
 * in ms after the node's reply.
 */
class ConfirmationTest {
  private static final Faults LIE =
      Faults.newBuilder().setLie(Lie.newBuilder().setFraction(0.3)).build();

  private static NodeView withFaults(NodeView n, Faults faults) {
    return n.toBuilder().setFaults(faults).build();
  }

  private static NodeView node(long lastBeatAgeMs) {
    return NodeView.newBuilder()
        .setNodeId("node-2")
        .setState(NodeState.ALIVE)
        .setLastHeartbeatAgeMs(lastBeatAgeMs)
        .build();
  }

  @Test
  void faultsShowWhenABeatNewerThanTheChangeReportsThem() {
    Confirmation lie = new Confirmation.ReportsFaults(LIE);

    // asked 150 ms after the reply, last beat 30 ms old: the beat came 120 ms after the reply
    assertThat(lie.seenAfterMs(withFaults(node(30), LIE), 150)).contains(120L);
    // the same faults in a beat from before the change do not count: it may be an old beat
    assertThat(lie.seenAfterMs(withFaults(node(200), LIE), 150)).isEmpty();
    assertThat(lie.seenAfterMs(withFaults(node(30), Faults.getDefaultInstance()), 150)).isEmpty();
  }

  @Test
  void aHealShowsWhenAFreshBeatReportsNoFaults() {
    Confirmation healed = new Confirmation.FaultsCleared(LIE);

    assertThat(healed.seenAfterMs(node(10), 50)).contains(40L);
    assertThat(healed.seenAfterMs(withFaults(node(10), LIE), 50)).isEmpty();
    assertThat(healed.notYet(withFaults(node(10), LIE)))
        .isEqualTo("it shows node-2 with lie on 30% of tasks");
  }

  @Test
  void onlyACoordinatorThatShowedTheFaultsCanShowThemGone() {
    Confirmation healed = new Confirmation.FaultsCleared(LIE);

    // "no faults" is also all that a coordinator shows that does not read them from heartbeats
    assertThat(healed.cannotShow(Optional.of(withFaults(node(10), LIE)))).isEmpty();
    assertThat(healed.cannotShow(Optional.of(node(10))))
        .contains(
            "it did not show node-2's faults before the heal either (it showed no faults), so it"
                + " cannot show them gone");
    assertThat(healed.cannotShow(Optional.empty()))
        .contains("its view from before the heal is unknown, so a change cannot show");
    // the other changes do not depend on what the coordinator showed before
    assertThat(new Confirmation.ReportsFaults(LIE).cannotShow(Optional.of(node(10)))).isEmpty();
    assertThat(Confirmation.SILENCED.cannotShow(Optional.empty())).isEmpty();
  }

  @Test
  void silenceShowsAsSuspectOrDeadFromTheTransitionTime() {
    NodeView suspect =
        node(400).toBuilder()
            .setState(NodeState.SUSPECT)
            .setSinceTransitionMs(90)
            .setLastTransitionReason("no heartbeat for 310 ms (threshold 3 x 100 ms)")
            .build();

    assertThat(Confirmation.SILENCED.seenAfterMs(suspect, 500)).contains(410L);
    assertThat(Confirmation.GONE.seenAfterMs(suspect, 500)).isEmpty();
    assertThat(Confirmation.GONE.notYet(suspect)).isEqualTo("it still has node-2 SUSPECT");
    assertThat(Confirmation.SILENCED.seenAfterMs(node(10), 500)).isEmpty();
  }

  @Test
  void theLinesSayWhoSawWhatAndWhen() {
    NodeView suspect =
        node(400).toBuilder()
            .setState(NodeState.SUSPECT)
            .setLastTransitionReason("no heartbeat for 310 ms (threshold 3 x 100 ms)")
            .build();

    assertThat(ChaosCommand.seenLine("coordinator-1", 410, suspect, Confirmation.SILENCED))
        .isEqualTo(
            "coordinator-1 sees it after 410 ms: node-2 SUSPECT (no heartbeat for 310 ms"
                + " (threshold 3 x 100 ms))");
    assertThat(
            ChaosCommand.seenLine(
                "coordinator-2",
                120,
                withFaults(node(30), LIE),
                new Confirmation.ReportsFaults(LIE)))
        .isEqualTo(
            "coordinator-2 sees it after 120 ms: node-2's heartbeats report lie on 30% of tasks");
    assertThat(ChaosCommand.seenLine("coordinator-1", -800, suspect, Confirmation.SILENCED))
        .startsWith("coordinator-1 saw it already, 800 ms before the change: node-2 SUSPECT");
    assertThat(
            ChaosCommand.notConfirmedLine(
                "coordinator-1", Duration.ofSeconds(3), "it shows node-2 with no faults"))
        .isEqualTo("not confirmed by coordinator-1 within 3 s: it shows node-2 with no faults");
    assertThat(ChaosCommand.notConfirmedLine("coordinator-1", Duration.ofMillis(1500), "x"))
        .isEqualTo("not confirmed by coordinator-1 within 1500 ms: x");
  }

  @Test
  void showSaysWhatEachCoordinatorHasInItsView() {
    ClusterView view =
        ClusterView.newBuilder()
            .setCoordinatorId("coordinator-1")
            .addNodes(withFaults(node(42), LIE))
            .build();

    assertThat(ChaosCommand.showLine("node-2", Optional.of(view), ""))
        .isEqualTo(
            "coordinator-1 has node-2 ALIVE, last heartbeat 42 ms ago, faults in its view: lie on"
                + " 30% of tasks");
    assertThat(ChaosCommand.showLine("node-7", Optional.of(view), ""))
        .isEqualTo("coordinator-1 does not know node-7");
    assertThat(
            ChaosCommand.showLine("node-2", Optional.empty(), "coordinator at h:1 did not answer"))
        .isEqualTo("coordinator at h:1 did not answer");
  }
}
