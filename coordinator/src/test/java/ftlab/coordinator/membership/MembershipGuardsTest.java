package ftlab.coordinator.membership;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.coordinator.membership.MembershipEvent.Forgotten;
import ftlab.coordinator.membership.MembershipEvent.Refusal;
import ftlab.coordinator.membership.MembershipEvent.Refused;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What keeps the membership table honest when anyone can send a heartbeat ({@link
 * MembershipLimits}): each attack of issue 10 that did lasting harm in plaintext, played against
 * the state machine on a fake clock.
 */
class MembershipGuardsTest {
  private static final long MS = 1_000_000L;
  private static final long WALL = 1_800_000_000_000L;
  private static final String REAL = "10.0.0.5:7101";
  private static final String FORGER = "10.0.0.66:7101";

  private Membership membership = new Membership(DetectorConfig.DEFAULT);
  private long now = 1_000 * MS;
  private final List<MembershipEvent> events = new ArrayList<>();

  private List<MembershipEvent> beat(String node, String address, long incarnation, long seq) {
    List<MembershipEvent> happened =
        membership.onHeartbeat(new Heartbeat(node, address, incarnation, seq, 0, 4), now, WALL);
    events.addAll(happened);
    return happened;
  }

  /** Advances the clock in 10 ms ticks, the real node beating every 100 ms from {@code seq}. */
  private long beatOn(String node, long incarnation, long seq, long millis) {
    for (long t = 10; t <= millis; t += 10) {
      now += 10 * MS;
      events.addAll(membership.tick(now));
      if (t % 100 == 0) {
        beat(node, REAL, incarnation, seq++);
      }
    }
    return seq;
  }

  private void silence(long millis) {
    for (long t = 0; t < millis; t += 10) {
      now += 10 * MS;
      events.addAll(membership.tick(now));
    }
  }

  private NodeSnapshot node(String id) {
    return membership.node(id, now).orElseThrow();
  }

  private List<String> transitions() {
    return eventsOf(MembershipEvent.Transition.class).stream()
        .map(MembershipEvent::describe)
        .toList();
  }

  private <T extends MembershipEvent> List<T> eventsOf(Class<T> type) {
    return events.stream().filter(type::isInstance).map(type::cast).toList();
  }

  @Test
  void anIncarnationFarAheadOfTheClockIsNotBelieved() {
    List<MembershipEvent> refused = beat("node-1", FORGER, WALL + 61_000, 1);
    assertThat(refused).hasSize(1);
    Refused r = (Refused) refused.get(0);
    assertThat(r.kind()).isEqualTo(Refusal.FUTURE_INCARNATION);
    assertThat(r.describe())
        .isEqualTo(
            "refused a heartbeat from node-1 at 10.0.0.66:7101: its incarnation 1800000061000 (a"
                + " start time in ms) is 61 s ahead of this coordinator's clock, more than the 60 s"
                + " allowed: not believed (are the machines' clocks in sync?)");
    assertThat(membership.node("node-1", now)).isEmpty();

    beat("node-1", REAL, WALL + 59_000, 1); // a clock 59 s fast: within the leeway
    assertThat(node("node-1").state()).isEqualTo(NodeState.ALIVE);
  }

  @Test
  void whileTheHolderBeatsEveryOtherProcessIsRefusedWhateverItsIncarnation() {
    long seq = beatOn("node-1", WALL - 5_000, 1, 300);
    now += 40 * MS;

    // a forged restart, then another with a newer incarnation still, then an older one
    for (long forged : new long[] {WALL, WALL + 1_000, WALL - 9_000}) {
      List<MembershipEvent> refused = beat("node-1", FORGER, forged, 1);
      assertThat(refused).singleElement().isInstanceOf(Refused.class);
      assertThat(((Refused) refused.get(0)).kind()).isEqualTo(Refusal.ID_TAKEN);
      assertThat(((Refused) refused.get(0)).newClaim()).isTrue();
      assertThat(node("node-1").address()).isEqualTo(REAL);
    }
    Refused again = (Refused) beat("node-1", FORGER, WALL - 9_000, 2).get(0);
    assertThat(again.newClaim()).isFalse(); // the same claimant again: one conflict, not two
    assertThat(again.describe())
        .isEqualTo(
            "refused a heartbeat from node-1 at 10.0.0.66:7101: the id node-1 is held by another"
                + " process that still beats (incarnation 1799999995000 at 10.0.0.5:7101, heard 40"
                + " ms ago): give each node its own id");

    beatOn("node-1", WALL - 5_000, seq, 2_000);
    NodeSnapshot n = node("node-1");
    assertThat(n.state()).isEqualTo(NodeState.ALIVE);
    assertThat(n.address()).isEqualTo(REAL);
    assertThat(n.incarnation()).isEqualTo(WALL - 5_000);
  }

  @Test
  void aStalledCoordinatorRefusesANewcomerAndSaysItCannotTellYet() {
    long seq = beatOn("node-1", WALL - 5_000, 1, 300);
    now += 2_000 * MS; // this coordinator is paused; the holder's last beat looks 2 s old
    Refused during = (Refused) beat("node-1", FORGER, WALL, 1).get(0);
    assertThat(during.kind()).isEqualTo(Refusal.ID_TAKEN);
    assertThat(during.newClaim()).isFalse(); // no conflict counted: it may be a real restart
    assertThat(during.reason())
        .isEqualTo(
            "the id node-1 is held by another process (incarnation 1799999995000 at"
                + " 10.0.0.5:7101) and this coordinator cannot tell yet whether it still beats: its"
                + " failure detector has not run for 2000 ms (this coordinator is stalled: paused,"
                + " or starved of CPU); try again");
    // the holder's own incarnation from another address: not a move either
    assertThat(beat("node-1", FORGER, WALL - 5_000, seq + 30))
        .singleElement()
        .matches(e -> e instanceof Refused r && r.kind() == Refusal.ID_TAKEN);

    silence(100); // the stall is found: every node's silence clock restarts
    Refused settling = (Refused) beat("node-1", FORGER, WALL, 2).get(0);
    assertThat(settling.reason())
        .endsWith(
            ": it was stalled for 2010 ms until 90 ms ago, and beats that piled up meanwhile are"
                + " still being read; try again in 1910 ms");
    assertThat(node("node-1").address()).isEqualTo(REAL);

    beatOn("node-1", WALL - 5_000, seq + 21, 2_000); // settled, and the holder beats
    Refused after = (Refused) beat("node-1", FORGER, WALL, 3).get(0);
    assertThat(after.reason()).contains("is held by another process that still beats");
    assertThat(after.newClaim()).isTrue(); // now it is a conflict
    assertThat(node("node-1").incarnation()).isEqualTo(WALL - 5_000);
  }

  @Test
  void aForgedIncarnationCannotShutOutTheRealNodesRestart() {
    beat("node-1", REAL, WALL - 60_000, 1);
    silence(700); // the real node is down
    beat("node-1", FORGER, WALL + 50_000, 1); // a forged beat, as far ahead as is believed
    silence(700); // and silent after it
    assertThat(node("node-1").state()).isEqualTo(NodeState.DEAD);

    // the real node restarts: an incarnation older than the forged one. Its first beat alone
    // could be a stale one; the second, a beat later, shows a live process
    beat("node-1", REAL, WALL, 1);
    assertThat(node("node-1").address()).isEqualTo(FORGER);
    silence(100);
    beat("node-1", REAL, WALL, 2);
    NodeSnapshot n = node("node-1");
    assertThat(n.state()).isEqualTo(NodeState.ALIVE);
    assertThat(n.address()).isEqualTo(REAL);
    assertThat(n.reason())
        .isEqualTo(
            "incarnation 1800000000000 beats again while the newer incarnation 1800000050000 is"
                + " DEAD: the id is back with the process that beats");
  }

  @Test
  void aBurstOfBeatsAnOldProcessLeftInASocketDoesNotTakeTheIdBack() {
    beat("node-1", REAL, WALL - 9_000, 7);
    silence(400); // killed
    beat("node-1", "10.0.0.9:7101", WALL, 1); // restarted elsewhere
    silence(700); // and killed again: DEAD
    for (long seq = 8; seq <= 12; seq++) {
      beat("node-1", REAL, WALL - 9_000, seq); // the old process's beats, all at once
    }
    assertThat(node("node-1").state()).isEqualTo(NodeState.DEAD);
    assertThat(node("node-1").incarnation()).isEqualTo(WALL);
  }

  @Test
  void aRestartIsStillARestart() {
    long seq = beatOn("node-1", WALL - 5_000, 1, 300);
    silence(400); // killed (silent for more than the suspect threshold), restarted
    beat("node-1", "10.0.0.9:7101", WALL, 1);
    assertThat(node("node-1").address()).isEqualTo("10.0.0.9:7101");
    for (long s = 2; s < 20; s++) {
      silence(100);
      beat("node-1", "10.0.0.9:7101", WALL, s);
    }
    assertThat(node("node-1").state()).isEqualTo(NodeState.ALIVE);
    assertThat(node("node-1").address()).isEqualTo("10.0.0.9:7101");
    assertThat(eventsOf(Refused.class)).isEmpty();
    assertThat(seq).isEqualTo(4); // the old process beat 3 times before it was killed
  }

  @Test
  void aDuplicateGetsTheIdOnlyOnceTheFirstIsGoneAndTheDrainingFirstDoesNotTakeItBack() {
    long seq = beatOn("node-1", WALL - 5_000, 1, 300);
    Refused r = (Refused) beat("node-1", FORGER, WALL, 1).get(0); // a second node-1 starts
    assertThat(r.kind()).isEqualTo(Refusal.ID_TAKEN);

    events.addAll(membership.onLeave("node-1", WALL - 5_000, "SIGTERM", now)); // the first stops
    beat("node-1", FORGER, WALL, 2); // the second takes the id over: the first is LEFT
    assertThat(node("node-1").address()).isEqualTo(FORGER);
    beatOn("node-1", WALL - 5_000, seq, 500); // the first's last beats while its goodbyes finish
    assertThat(node("node-1").address()).isEqualTo(FORGER);
    assertThat(node("node-1").incarnation()).isEqualTo(WALL);
  }

  @Test
  void theSameIncarnationFromAnotherAddressIsRefusedWhileTheHolderBeats() {
    long seq = beatOn("node-1", WALL - 5_000, 1, 300);
    List<MembershipEvent> r = beat("node-1", FORGER, WALL - 5_000, seq + 1); // copied from status
    assertThat(r)
        .singleElement()
        .matches(e -> e instanceof Refused x && x.kind() == Refusal.ID_TAKEN);
    assertThat(node("node-1").address()).isEqualTo(REAL);
    beatOn("node-1", WALL - 5_000, seq, 1_000); // the real beats go on being taken
    assertThat(node("node-1").state()).isEqualTo(NodeState.ALIVE);
  }

  @Test
  void aSequenceFarAheadIsNotBelievedSoRealBeatsAreNotIgnoredAfterIt() {
    long seq = beatOn("node-1", WALL - 5_000, 1, 300);
    now += 50 * MS;
    List<MembershipEvent> r = beat("node-1", REAL, WALL - 5_000, Long.MAX_VALUE);
    assertThat(r)
        .singleElement()
        .extracting(MembershipEvent::describe)
        .isEqualTo(
            "refused a heartbeat from node-1 at 10.0.0.5:7101: its sequence number"
                + " 9223372036854775807 is far ahead of the beats its process could have sent"
                + " since its last, 50 ms ago: not believed");
    beatOn("node-1", WALL - 5_000, seq, 2_000);
    assertThat(node("node-1").state()).isEqualTo(NodeState.ALIVE);
    assertThat(transitions()).noneMatch(t -> t.contains("SUSPECT"));
  }

  @Test
  void aBeatNumberedAheadThatGotInCannotSilenceTheRealNodeForLong() {
    long seq = beatOn("node-1", WALL - 5_000, 1, 300);
    now += 50 * MS;
    beat("node-1", REAL, WALL - 5_000, seq + 10); // within the slack: taken
    // the real node's beats are numbered below it now: ignored at first, SUSPECT after 300 ms,
    // and then taken again as it keeps beating at a live pace
    beatOn("node-1", WALL - 5_000, seq, 2_000);
    NodeSnapshot n = node("node-1");
    assertThat(n.state()).isEqualTo(NodeState.ALIVE);
    assertThat(transitions())
        .anyMatch(
            t ->
                t.startsWith("node-1 SUSPECT -> ALIVE: its beats count from #")
                    && t.contains(" again, below #14 seen before (a forged or mistaken beat"));
    assertThat(transitions()).noneMatch(t -> t.contains("DEAD"));
  }

  @Test
  void aStalledCoordinatorStillJudgesSequencesByTheBeatsItTook() {
    long seq = beatOn("node-1", WALL - 5_000, 1, 300);
    now += 2_000 * MS; // this coordinator is paused; the node beat 20 times meanwhile
    silence(100); // the stall is found: every node's silence clock restarts
    beat("node-1", REAL, WALL - 5_000, seq + 21); // within what 2.1 s of beats could number
    assertThat(eventsOf(Refused.class)).isEmpty();
    assertThat(beat("node-1", REAL, WALL - 5_000, Long.MAX_VALUE))
        .singleElement()
        .matches(e -> e instanceof Refused r && r.kind() == Refusal.SEQUENCE_JUMP);
  }

  @Test
  void aNodeBackFromAPartitionKeepsItsSequence() {
    beatOn("node-1", WALL - 5_000, 1, 300);
    silence(12_000); // cut off: it beat 120 times into the void, counting
    beat("node-1", REAL, WALL - 5_000, 4 + 120);
    assertThat(node("node-1").state()).isEqualTo(NodeState.ALIVE);
    assertThat(eventsOf(Refused.class)).isEmpty();
  }

  @Test
  void aClockThatStepsBackDoesNotRefuseAMemberItAccepted() {
    List<MembershipEvent> joined =
        membership.onHeartbeat(new Heartbeat("node-1", REAL, WALL, 1, 0, 4), now, WALL);
    assertThat(joined).singleElement().isInstanceOf(MembershipEvent.Transition.class);
    // an NTP correction sets this coordinator's clock 5 minutes back
    List<MembershipEvent> later =
        membership.onHeartbeat(new Heartbeat("node-1", REAL, WALL, 2, 0, 4), now, WALL - 300_000);
    assertThat(later).isEmpty();
    assertThat(node("node-1").state()).isEqualTo(NodeState.ALIVE);
  }

  @Test
  void aForgedGoodbyeEndsWhenTheNodeBeatsOn() {
    long seq = beatOn("node-2", 1, 1, 300);
    events.addAll(membership.onLeave("node-2", 1, "forged", now));
    assertThat(node("node-2").state()).isEqualTo(NodeState.LEFT);

    seq = beatOn("node-2", 1, seq, 2_000); // within the grace: beats a leaving node had sent
    assertThat(node("node-2").state()).isEqualTo(NodeState.LEFT);
    beatOn("node-2", 1, seq, 200);
    assertThat(node("node-2").state()).isEqualTo(NodeState.ALIVE);
    assertThat(node("node-2").reason())
        .matches(
            "heartbeat #\\d+ of the same process arrived 2\\d\\d\\d ms after its goodbye \\(a"
                + " leaving node stops beating within 2000 ms\\): the goodbye was not its own");
  }

  @Test
  void beatsReadAfterAStallDoNotUndoAGoodbye() {
    long seq = beatOn("node-2", 1, 1, 300);
    events.addAll(membership.onLeave("node-2", 1, "SIGTERM", now));
    now += 5_000 * MS; // this coordinator was paused; beats sent before the node stopped piled up
    beat("node-2", REAL, 1, seq++);
    silence(100); // the first ticks: a stall is found
    beat("node-2", REAL, 1, seq);
    assertThat(node("node-2").state()).isEqualTo(NodeState.LEFT);
  }

  @Test
  void deadAndLeftNodesAreForgottenAfterForgetAfter() {
    membership =
        new Membership(
            DetectorConfig.DEFAULT,
            QuarantineConfig.DEFAULT,
            new MembershipLimits(128, Duration.ofSeconds(30), Duration.ofSeconds(60)));
    beat("node-1", REAL, 1, 1);
    beat("node-2", "10.0.0.6:7101", 1, 1);
    events.addAll(membership.onLeave("node-2", 1, "SIGTERM", now));
    silence(29_000);
    assertThat(membership.nodes(now))
        .extracting(NodeSnapshot::state)
        .containsExactly(NodeState.DEAD, NodeState.LEFT);
    silence(1_000);
    assertThat(membership.nodes(now)).extracting(NodeSnapshot::nodeId).containsExactly("node-1");
    silence(700); // node-1 went DEAD 610 ms after its last beat, node-2 LEFT at once
    assertThat(membership.nodes(now)).isEmpty();
    assertThat(eventsOf(Forgotten.class))
        .extracting(Forgotten::describe)
        .containsExactly(
            "node-2 forgotten (LEFT): LEFT for 30 s (forget-after 30 s)",
            "node-1 forgotten (DEAD): DEAD for 30 s (forget-after 30 s)");

    beat("node-1", REAL, 1, 2); // back later: a newcomer
    assertThat(node("node-1").reason()).isEqualTo("first heartbeat (incarnation 1, 10.0.0.5:7101)");
  }

  @Test
  void aFloodOfIdsCannotGrowTheTableBeyondItsLimit() {
    membership =
        new Membership(
            DetectorConfig.DEFAULT,
            QuarantineConfig.DEFAULT,
            new MembershipLimits(3, Duration.ofMinutes(5), Duration.ofSeconds(60)));
    beat("node-1", REAL, 1, 1);
    for (int i = 1; i <= 500; i++) {
      beat("ghost-" + i, FORGER, 1, 1);
    }
    assertThat(membership.nodes(now)).hasSize(3);
    List<Refused> refused = eventsOf(Refused.class);
    assertThat(refused).hasSize(498).allMatch(r -> r.kind() == Refusal.TABLE_FULL);
    assertThat(refused.get(0).describe())
        .isEqualTo(
            "refused a heartbeat from ghost-3 at 10.0.0.66:7101: this coordinator already tracks"
                + " 3 nodes, its limit (--max-nodes), none of them DEAD or LEFT for more than 2 s:"
                + " a new node id is refused until one is");
    // one report, the rest counted: a flood is one log line every 10 s
    assertThat(refused.stream().filter(Refused::report).count()).isEqualTo(1);

    beatOn("node-1", 1, 2, 700); // the ghosts fall silent and die; node-1 beats on
    silence(10_000);
    events.clear();
    beat("node-9", "10.0.0.9:7101", 1, 1); // a real newcomer takes the longest-dead ghost's place
    assertThat(node("node-9").state()).isEqualTo(NodeState.ALIVE);
    assertThat(eventsOf(Forgotten.class))
        .singleElement()
        .extracting(Forgotten::describe)
        .asString()
        .startsWith("ghost-1 forgotten (DEAD): to make room for node-9: 3 nodes is the limit");
    assertThat(membership.nodes(now)).hasSize(3);
  }

  @Test
  void aNodeJustGoneIsNotForgottenToMakeRoom() {
    membership =
        new Membership(
            DetectorConfig.DEFAULT,
            QuarantineConfig.DEFAULT,
            new MembershipLimits(2, Duration.ofMinutes(5), Duration.ofSeconds(60)));
    beat("node-1", REAL, 1, 1);
    beat("node-2", "10.0.0.6:7101", 1, 1);
    events.addAll(membership.onLeave("node-2", 1, "forged, perhaps", now));
    assertThat(beat("ghost-1", FORGER, 1, 1))
        .singleElement()
        .matches(e -> e instanceof Refused r && r.kind() == Refusal.TABLE_FULL);
    beatOn("node-1", 1, 2, 2_100);
    beat("ghost-1", FORGER, 1, 2);
    assertThat(membership.nodes(now))
        .extracting(NodeSnapshot::nodeId)
        .containsExactly("ghost-1", "node-1");
  }

  @Test
  void refusalsOfOneKindAreReportedOnceEveryTenSeconds() {
    beat("x", FORGER, WALL + 100_000, 1);
    beat("x", FORGER, WALL + 100_000, 2);
    beat("x", FORGER, WALL + 100_000, 3);
    silence(10_000);
    beat("x", FORGER, WALL + 100_000, 4);
    List<Refused> refused = eventsOf(Refused.class);
    assertThat(refused).extracting(Refused::report).containsExactly(true, false, false, true);
    assertThat(refused.get(3).refusedSinceReport()).isEqualTo(2);
    assertThat(refused.get(3).describe())
        .endsWith("(2 more refused for this reason since the last report)");
  }

  @Test
  void idsAndAddressesThatWouldHarmLogsOrTablesAreRefused() {
    assertThat(NodeIds.problem("node-3")).isEmpty();
    assertThat(NodeIds.problem("pool-12")).isEmpty();
    assertThat(NodeIds.problem("a1b2c3d4e5f6.ftlab")).isEmpty();
    assertThat(NodeIds.problem("node 1"))
        .hasValueSatisfying(p -> assertThat(p).contains("'node 1'"));
    assertThat(NodeIds.problem("node-1\nnode-2")).isPresent();
    assertThat(NodeIds.problem("n".repeat(129)))
        .hasValue("a node id must be at most 128 characters, got 129");
    assertThat(NodeIds.problem("x".repeat(100) + "!"))
        .hasValue(
            "a node id is letters, digits, '.', '_' and '-', starting with a letter or a digit, got"
                + " 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' (101"
                + " characters)");

    for (String ok : List.of("127.0.0.1:7101", "node-1:7101", "[::1]:7101", "a1b2c3:1")) {
      assertThat(Heartbeat.addressProblem(ok)).as(ok).isEmpty();
    }
    for (String bad : List.of("127.0.0.1", "node-1:0", "node-1:70000", "node 1:7101", ":7101")) {
      assertThat(Heartbeat.addressProblem(bad)).as(bad).isPresent();
    }
  }

  @Test
  void aRevokedNodeIsOutAtOnceFromAnyStateAndBackAtItsFirstBeatWhenTheRevocationIsUndone() {
    long seq = beatOn("node-1", 1, 1, 300);
    beat("node-2", "10.0.0.6:7101", 1, 1);
    // ALIVE -> LEFT at once
    assertThat(membership.onRevoked("node-1", "revoked by admin admin", now))
        .extracting(MembershipEvent::describe)
        .containsExactly("node-1 ALIVE -> LEFT: revoked by admin admin");
    assertThat(node("node-1").state()).isEqualTo(NodeState.LEFT);
    // again: nothing more happens; an unknown name: nothing at all
    assertThat(membership.onRevoked("node-1", "again", now)).isEmpty();
    assertThat(membership.onRevoked("client", "revoked", now)).isEmpty();
    // a quarantined node: revocation trumps the quarantine
    for (int i = 0; i < 10; i++) {
      membership.onVote("node-2", true, now);
    }
    assertThat(node("node-2").state()).isEqualTo(NodeState.QUARANTINED);
    assertThat(membership.onRevoked("node-2", "revoked by admin admin", now))
        .extracting(MembershipEvent::describe)
        .containsExactly("node-2 QUARANTINED -> LEFT: revoked by admin admin");
    // its beats are refused before they get here while it is revoked; one that passed that check
    // a moment before the revocation is dropped
    now += 10 * MS;
    assertThat(beat("node-1", REAL, 1, seq++)).isEmpty();
    assertThat(node("node-1").state()).isEqualTo(NodeState.LEFT);
    // undone: its next beat makes it ALIVE at once (no goodbye grace to wait out)
    membership.onUnrevoked("node-1");
    now += 10 * MS;
    assertThat(beat("node-1", REAL, 1, seq))
        .extracting(MembershipEvent::describe)
        .containsExactly(
            "node-1 LEFT -> ALIVE: heartbeat #"
                + seq
                + " arrived: its certificate is no longer revoked");
  }

  @Test
  void aNodeRestartedAfterItsRevocationWasUndoneLeavesWithTheUsualGrace() {
    beatOn("node-1", 1, 1, 300);
    membership.onRevoked("node-1", "revoked by admin admin", now);
    membership.onUnrevoked("node-1");
    // it restarted meanwhile: a new incarnation takes its id back, as any restart
    silence(400);
    beat("node-1", REAL, 2, 1);
    assertThat(node("node-1").state()).isEqualTo(NodeState.ALIVE);
    long seq = beatOn("node-1", 2, 2, 300);
    // later it says goodbye; its last beats within the grace do not bring it back
    assertThat(membership.onLeave("node-1", 2, "shutting down", now))
        .extracting(MembershipEvent::describe)
        .containsExactly("node-1 ALIVE -> LEFT: said goodbye: shutting down");
    now += 50 * MS;
    assertThat(beat("node-1", REAL, 2, seq)).isEmpty();
    assertThat(node("node-1").state()).isEqualTo(NodeState.LEFT);
  }

  @Test
  void aNodeThatSaidGoodbyeBeforeItsRevocationIsNotBroughtBackByTheUndo() {
    long seq = beatOn("node-1", 1, 1, 300);
    membership.onLeave("node-1", 1, "", now);
    assertThat(membership.onRevoked("node-1", "revoked", now)).isEmpty();
    membership.onUnrevoked("node-1");
    now += 50 * MS;
    assertThat(beat("node-1", REAL, 1, seq)).isEmpty(); // a late beat within the goodbye's grace
    assertThat(node("node-1").state()).isEqualTo(NodeState.LEFT);
  }
}
