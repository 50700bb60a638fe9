package ftlab.coordinator.membership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.proto.Faults;
import ftlab.proto.Lie;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Quarantine of nodes that lie (docs/redundancy.md, "Vote"), on a fake clock. Defaults: QUARANTINED
 * when outvoted 3 times in the last 20 votes; it ends when an operator readmits the node or after
 * 60 s.
 */
class QuarantineTest {
  private static final long MS = 1_000_000L;

  private final Membership membership =
      new Membership(DetectorConfig.DEFAULT, QuarantineConfig.DEFAULT);

  /** The coordinator's wall clock: incarnations in these tests are far behind it. */
  private static final long WALL = 1_800_000_000_000L;

  private long now = 1_000 * MS;
  private long sequence;
  private final List<MembershipEvent> events = new ArrayList<>();

  private void beat(String node, long incarnation) {
    events.addAll(
        membership.onHeartbeat(
            new Heartbeat(node, "127.0.0.1:7101", incarnation, ++sequence, 0, 4), now, WALL));
  }

  private void vote(String node, boolean outvoted) {
    events.addAll(membership.onVote(node, outvoted, now));
  }

  /** Advances the clock in 100 ms steps; the node beats at each step if {@code beating}. */
  private void advance(long millis, String node, boolean beating, long incarnation) {
    for (long t = 0; t < millis; t += 100) {
      now += 100 * MS;
      if (beating) {
        beat(node, incarnation);
      }
      events.addAll(membership.tick(now));
    }
  }

  private NodeSnapshot node(String id) {
    return membership.node(id, now).orElseThrow();
  }

  @Test
  void outvotedThreeTimesInTwentyVotesIsQuarantinedWithTheReason() {
    beat("node-4", 1);
    vote("node-4", true);
    for (int i = 0; i < 10; i++) {
      vote("node-4", false); // mostly honest: one wrong vote is bad luck, not a pattern
    }
    vote("node-4", true);
    assertThat(node("node-4").state()).isEqualTo(NodeState.ALIVE);
    assertThat(node("node-4").outvoted()).isEqualTo(2);
    assertThat(node("node-4").recentVotes()).isEqualTo(12);

    vote("node-4", true);

    assertThat(node("node-4").state()).isEqualTo(NodeState.QUARANTINED);
    assertThat(events.get(events.size() - 1).describe())
        .isEqualTo(
            "node-4 ALIVE -> QUARANTINED: outvoted 3 times in its last 13 votes (threshold 3 in"
                + " 20): it may be lying");
  }

  @Test
  void oldWrongVotesSlideOutOfTheWindow() {
    beat("node-4", 1);
    vote("node-4", true);
    vote("node-4", true);
    for (int i = 0; i < 20; i++) {
      vote("node-4", false);
    }
    vote("node-4", true);
    assertThat(node("node-4").outvoted()).isEqualTo(1);
    assertThat(node("node-4").state()).isEqualTo(NodeState.ALIVE);
  }

  @Test
  void heartbeatsSilenceGoodbyesAndRestartsDoNotEndAQuarantine() {
    beat("node-4", 1);
    vote("node-4", true);
    vote("node-4", true);
    vote("node-4", true);

    advance(1_000, "node-4", true, 1); // beating on
    assertThat(node("node-4").state()).isEqualTo(NodeState.QUARANTINED);
    advance(1_000, "node-4", false, 1); // silent for longer than the dead timeout
    assertThat(node("node-4").state()).isEqualTo(NodeState.QUARANTINED);
    events.addAll(membership.onLeave("node-4", 1, "SIGTERM", now));
    assertThat(node("node-4").state()).isEqualTo(NodeState.QUARANTINED);
    beat("node-4", 2); // restarted: a new process is still the same suspicious node
    assertThat(node("node-4").state()).isEqualTo(NodeState.QUARANTINED);
  }

  @Test
  void aQuarantineExpiresToAliveIfTheNodeBeatsAndToDeadIfItIsSilent() {
    beat("node-4", 1);
    beat("node-5", 1);
    for (String n : List.of("node-4", "node-5")) {
      vote(n, true);
      vote(n, true);
      vote(n, true);
    }

    advance(60_000, "node-4", true, 1); // node-5 has gone silent meanwhile

    assertThat(node("node-4").state()).isEqualTo(NodeState.ALIVE);
    assertThat(node("node-4").reason()).isEqualTo("quarantine expired after 60 s");
    assertThat(node("node-4").outvoted()).as("a clean record").isZero();
    assertThat(node("node-5").state()).isEqualTo(NodeState.DEAD);
    assertThat(node("node-5").reason())
        .startsWith("quarantine expired after 60 s; no heartbeat for ");
  }

  @Test
  void anOperatorReadmitsAQuarantinedNode() {
    beat("node-4", 1);
    vote("node-4", true);
    vote("node-4", true);
    vote("node-4", true);

    events.addAll(membership.readmit("node-4", now));

    assertThat(node("node-4").state()).isEqualTo(NodeState.ALIVE);
    assertThat(node("node-4").reason()).isEqualTo("readmitted by an operator");
    assertThatThrownBy(() -> membership.readmit("node-4", now))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("node-4 is ALIVE, not QUARANTINED");
    assertThatThrownBy(() -> membership.readmit("node-9", now))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("no node node-9 here; known nodes: [node-4]");
  }

  @Test
  void aDeadNodeIsNotQuarantinedByLateVotes() {
    beat("node-4", 1);
    advance(700, "node-4", false, 1);
    assertThat(node("node-4").state()).isEqualTo(NodeState.DEAD);
    vote("node-4", true);
    vote("node-4", true);
    vote("node-4", true);
    // DEAD cannot become QUARANTINED (the table says so); its record still counts if it returns
    assertThat(node("node-4").state()).isEqualTo(NodeState.DEAD);
    assertThat(node("node-4").outvoted()).isEqualTo(3);
  }

  @Test
  void theFaultsANodeReportsAreKept() {
    Faults lying = Faults.newBuilder().setLie(Lie.newBuilder().setFraction(0.3)).build();
    events.addAll(
        membership.onHeartbeat(
            new Heartbeat("node-2", "127.0.0.1:7101", 1, ++sequence, 0, 4, lying), now, WALL));
    assertThat(node("node-2").faults()).isEqualTo(lying);
    beat("node-2", 1);
    assertThat(node("node-2").faults()).isEqualTo(Faults.getDefaultInstance());
  }

  @Test
  void quarantineSettingsCheckTheirInvariants() {
    assertThatThrownBy(() -> new QuarantineConfig(20, 21, Duration.ofSeconds(1)))
        .hasMessage("quarantine threshold must be 1..20 (the window), got 21");
    assertThatThrownBy(() -> new QuarantineConfig(0, 1, Duration.ofSeconds(1)))
        .hasMessage("quarantine window must be 1..1000 votes, got 0");
    assertThatThrownBy(() -> new QuarantineConfig(20, 3, Duration.ZERO))
        .hasMessage("quarantine expiry must be positive, got 0 ms");
  }
}
