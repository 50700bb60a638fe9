package ftlab.client.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
 * on the CLI's clock, in ms after it sent the change.
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

  /** A moment on the CLI's clock, in ms, as nanos. */
  private static long ms(long ms) {
    return ms * 1_000_000L;
  }

  @Test
  void faultsShowWhenTheViewReportsExactlyThem() {
    Confirmation lie = new Confirmation.ReportsFaults(LIE);

    assertThat(lie.shows(withFaults(node(30), LIE))).isTrue();
    assertThat(lie.shows(node(30))).isFalse();
    assertThat(lie.shows(withFaults(node(30), LIE.toBuilder().setFreeze(true).build()))).isFalse();
    assertThat(lie.notYet(node(30))).isEqualTo("it shows node-2 with no faults");
  }

  /**
   * The time is measured on the CLI's clock only: from when it sent the change to when the view's
   * reply arrived, minus the age the coordinator reports (the view was made before the reply
   * arrived, so this is the latest moment it can have seen the change).
   */
  @Test
  void seenAfterIsMeasuredFromTheSendOnTheCliClockOnly() {
    Confirmation lie = new Confirmation.ReportsFaults(LIE);
    NodeView beat30msOld = withFaults(node(30), LIE);

    // sent at 1000 ms, view received at 1150 ms, beat 30 ms old: seen by 1120 ms, 120 ms after
    assertThat(lie.seenAfterMs(beat30msOld, ms(1000), ms(1150))).isEqualTo(120);
    // a beat that arrived just as the change was sent: 0 ms, never "before" it
    assertThat(lie.seenAfterMs(beat30msOld, ms(1000), ms(1030))).isZero();
    // a view that showed it before the send: negative, "already"
    assertThat(lie.seenAfterMs(beat30msOld, ms(1000), ms(1029))).isEqualTo(-1);
    // half a millisecond before the send is before it, not 0
    assertThat(lie.seenAfterMs(beat30msOld, ms(1000), ms(1030) - 500_000)).isEqualTo(-1);
    // the transition time, not the beat's age, for a state
    NodeView alive = node(5).toBuilder().setSinceTransitionMs(40).build();
    assertThat(Confirmation.BEATING.seenAfterMs(alive, ms(1000), ms(1300))).isEqualTo(260);
  }

  /**
   * Issue 7: a healed node's first beat reached both coordinators before the CLI had the node's
   * reply. Every ordering of the reply and the beat gives a time from the send, never negative.
   */
  @Test
  void aBeatThatBeatsTheNodesReplyIsStillSeenAfterTheSend() {
    // sent at 0; the node heals at 2 ms and beats at once; the coordinator makes it ALIVE at 3 ms;
    // the node's reply reaches the CLI at 18 ms (a slow CLI); the CLI asks for the view at 19 ms,
    // the coordinator makes it at 20 ms (ALIVE for 17 ms) and the CLI receives it at 21 ms
    NodeView alive =
        node(17).toBuilder().setSinceTransitionMs(17).setLastTransitionReason("back").build();
    long afterMs = Confirmation.BEATING.seenAfterMs(alive, ms(0), ms(21));
    assertThat(afterMs).isEqualTo(4).isNotNegative();
    assertThat(ChaosCommand.seenLine("coordinator-1", afterMs, alive, Confirmation.BEATING))
        .isEqualTo("coordinator-1 sees it after 4 ms: node-2 ALIVE (back)");
  }

  @Test
  void aHealShowsWhenTheViewReportsNoFaults() {
    Confirmation healed = new Confirmation.FaultsCleared(LIE);

    assertThat(healed.shows(node(10))).isTrue();
    assertThat(healed.shows(withFaults(node(10), LIE))).isFalse();
    assertThat(healed.shownForMs(node(10))).isEqualTo(10);
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

    assertThat(Confirmation.SILENCED.shows(suspect)).isTrue();
    assertThat(Confirmation.SILENCED.shownForMs(suspect)).isEqualTo(90);
    assertThat(Confirmation.GONE.shows(suspect)).isFalse();
    assertThat(Confirmation.GONE.notYet(suspect)).isEqualTo("it still has node-2 SUSPECT");
    assertThat(Confirmation.SILENCED.shows(node(10))).isFalse();
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
    assertThat(ChaosCommand.alreadyLine("coordinator-1", suspect, Confirmation.SILENCED))
        .isEqualTo(
            "coordinator-1 already sees it: node-2 SUSPECT (no heartbeat for 310 ms (threshold 3"
                + " x 100 ms))");
    assertThatThrownBy(
            () -> ChaosCommand.seenLine("coordinator-1", -800, suspect, Confirmation.SILENCED))
        .hasMessage("seen after a negative time: -800 ms");
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
