package ftlab.node;

import static ftlab.node.FakeCoordinator.Behaviour.ANSWERS;
import static ftlab.node.FakeCoordinator.Behaviour.FROZEN;
import static ftlab.node.Requests.compute;
import static ftlab.node.Requests.echo;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.ListenableFuture;
import ftlab.proto.ComputeResponse;
import ftlab.proto.HeartbeatRequest;
import ftlab.proto.Load;
import java.time.Duration;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a node's heartbeats carry, and that they keep reaching every coordinator that can hear them,
 * whatever the other coordinators do. Design doc: architecture.md, section "Heartbeats".
 *
 * <p>The node's beats run on a fake clock ({@link TestNode#beats}), and its calls to the fake
 * coordinators are delivered on the thread that moves the clock, so "three beats later" is exact
 * and takes no time. What is real time: gRPC's reconnecting to a coordinator that was down (see
 * {@link #REREGISTRATION_BOUND}) and a task reaching the node on gRPC's threads; for those the
 * tests beat until they see it ({@link TestNode#beatUntil}), bounded.
 */
class HeartbeatTest {
  /**
   * A coordinator that is reachable again must hear from the node within this bound of real time,
   * while the node keeps beating. gRPC waits about 1 s before its first reconnect, then longer and
   * longer; the node cuts that wait short after 1 s worth of lost beats (see HeartbeatSender), here
   * 50 beats of the fake clock. The rest is slack for a slow machine.
   */
  private static final Duration REREGISTRATION_BOUND = Duration.ofSeconds(4);

  @RegisterExtension final InProcessGrpc grpc = new InProcessGrpc();

  private FakeCoordinator coordinator(String label, FakeCoordinator.Behaviour behaviour) {
    return FakeCoordinator.start(grpc, InProcessGrpc.uniqueName(label), behaviour);
  }

  @Test
  void beatsCarryTheNodesIdentityAndLoadOneEveryInterval() {
    FakeCoordinator coord = coordinator("coord", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(coord.name()));
    assertThat(coord.heartbeats()).hasSize(1); // the first beat goes out at start

    node.beats(4);

    List<HeartbeatRequest> beats = coord.heartbeats();
    assertThat(beats).hasSize(5);
    assertThat(beats)
        .allSatisfy(
            beat -> {
              assertThat(beat.getNodeId()).isEqualTo("node-1");
              assertThat(beat.getAddress()).isEqualTo(node.address);
              // one incarnation for the whole life of the process: it changes only on restart
              assertThat(beat.getIncarnation()).isEqualTo(node.server.incarnation());
              assertThat(beat.getIntervalMs()).isEqualTo(TestNode.BEAT.toMillis());
              assertThat(beat.getLoad())
                  .isEqualTo(Load.newBuilder().setInFlight(0).setCapacity(2).build());
            });
    // Sequence numbers count beats from 1 within an incarnation, so that a coordinator can drop a
    // stale or reordered beat.
    assertThat(beats).extracting(HeartbeatRequest::getSequence).containsExactly(1L, 2L, 3L, 4L, 5L);
  }

  @Test
  void beatsReportTheTasksInFlight() {
    FakeCoordinator coord = coordinator("coord", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(coord.name()));

    ListenableFuture<ComputeResponse> held =
        node.async.withDeadlineAfter(30, SECONDS).compute(compute(echo(10_000, "held")));
    // the task reaches the node on gRPC's threads, in real time
    node.beatUntil("in flight 1", Eventually.BOUND, () -> inFlightSeenBy(coord) == 1);

    held.cancel(true);
    node.beatUntil("in flight 0", Eventually.BOUND, () -> inFlightSeenBy(coord) == 0);
    assertThat(coord.lastHeartbeat().getLoad().getCapacity()).isEqualTo(2);
  }

  @Test
  void beatsGoToEveryCoordinator() {
    FakeCoordinator first = coordinator("coord-a", ANSWERS);
    FakeCoordinator second = coordinator("coord-b", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(first.name(), second.name()));

    node.beats(2);

    // each coordinator has its own view of the cluster, built from the same beats
    for (FakeCoordinator coord : List.of(first, second)) {
      assertThat(coord.heartbeats())
          .extracting(HeartbeatRequest::getSequence)
          .containsExactly(1L, 2L, 3L);
      assertThat(coord.heartbeats())
          .allSatisfy(
              beat -> {
                assertThat(beat.getNodeId()).isEqualTo("node-1");
                assertThat(beat.getIncarnation()).isEqualTo(node.server.incarnation());
              });
    }
  }

  @Test
  void aCoordinatorThatStartsLateStartsReceivingBeats() {
    FakeCoordinator early = coordinator("coord-early", ANSWERS);
    String lateName = InProcessGrpc.uniqueName("coord-late"); // no server under this name yet
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(early.name(), lateName));

    // 25 beats = 0.5 s during which every beat to the late one failed, and gRPC began to wait
    // before trying to connect to it again
    node.beats(25);
    assertThat(early.heartbeats()).hasSize(26);
    long sequenceAtStart = early.lastHeartbeat().getSequence();
    FakeCoordinator late = FakeCoordinator.start(grpc, lateName, ANSWERS);

    beatUntilHeardBy(node, late);
    // the beats it missed are not replayed: it simply hears the current ones
    assertThat(late.heartbeats().get(0).getSequence()).isGreaterThan(sequenceAtStart);
  }

  @Test
  void aRestartedCoordinatorHearsFromTheNodeAgain() throws InterruptedException {
    FakeCoordinator before = coordinator("coord", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(before.name()));
    node.beats(2);

    before.stop(); // crashed: it forgets everything it knew, as a restarted process would
    node.beats(10); // down for 10 beats: every beat to it fails meanwhile
    assertThat(before.heartbeats()).hasSize(3);
    FakeCoordinator after = FakeCoordinator.start(grpc, before.name(), ANSWERS);

    // A coordinator learns about nodes only from their beats, so the next beat that gets through
    // re-registers the node, with everything the restarted coordinator needs to know about it.
    beatUntilHeardBy(node, after);
    HeartbeatRequest first = after.heartbeats().get(0);
    assertThat(first.getNodeId()).isEqualTo("node-1");
    assertThat(first.getAddress()).isEqualTo(node.address);
    // the same process: the same incarnation, and the count goes on
    assertThat(first.getIncarnation()).isEqualTo(node.server.incarnation());
    assertThat(first.getSequence()).isGreaterThan(13);
  }

  @Test
  void aFrozenCoordinatorDoesNotHoldUpBeatsToTheOthers() {
    FakeCoordinator frozen = coordinator("coord-frozen", FROZEN);
    FakeCoordinator live = coordinator("coord-live", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(frozen.name(), live.name()));

    node.beats(20);

    // the live coordinator hears every beat, whatever the frozen one does
    assertThat(live.heartbeats()).hasSize(21);
    // The node keeps sending the frozen one every beat too (a coordinator may hear beats whose
    // replies do not reach the node: HeartbeatSender.MAX_OUT), but never more than two waiting at
    // once: a beat still unanswered at the next-but-one tick is given up there.
    assertThat(frozen.heartbeats())
        .extracting(HeartbeatRequest::getSequence)
        .containsExactlyElementsOf(LongStream.rangeClosed(1, 21).boxed().toList());
    assertThat(frozen.mostHeartbeatsOpenAtOnce()).isEqualTo(HeartbeatSender.MAX_OUT);
  }

  /**
   * A connection can look up while it leads nowhere: a node cut off the network and connected again
   * may have another address, and its old connection's packets are lost without an error (the
   * compose lab's soak found a node that never came back that way). When a second of beats went
   * unanswered on a connection from an address the node no longer has, it drops the connection and
   * connects afresh; not when the address is still its own (a frozen or slow coordinator, or a
   * partition that healed under the same address: the old connection resumes). The network is stood
   * in for: a frozen coordinator never answers, and a check says whether the connection's local
   * address moved away.
   */
  @Test
  void aConnectionFromAnAddressTheNodeNoLongerHasIsDroppedOnce() {
    FakeCoordinator frozen = coordinator("coord-frozen", ANSWERS);
    FakeCoordinator live = coordinator("coord-live", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(frozen.name(), live.name()));
    node.beats(2); // answered: the node knows its end of each connection
    frozen.freeze();
    java.util.concurrent.atomic.AtomicBoolean moved =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.List<java.net.SocketAddress> judged =
        new java.util.concurrent.CopyOnWriteArrayList<>();
    node.server
        .heartbeats()
        .judgeLocalAddressesWith(
            a -> {
              judged.add(a);
              return moved.get();
            });
    int perSecond = (int) (1000 / TestNode.BEAT.toMillis());
    // the address is still the node's: seconds of lost beats to the frozen one drop nothing
    node.beats(3 * perSecond);
    assertThat(judged)
        .as("the check was asked, with the connection's local end as the answers showed it")
        .isNotEmpty()
        .doesNotContainNull();
    assertThat(frozen.connections()).isEqualTo(1);
    assertThat(live.connections()).isEqualTo(1);

    moved.set(true);
    node.beatUntil("a fresh connection", Eventually.BOUND, () -> frozen.connections() == 2);
    // once per run of lost beats: a coordinator that still does not answer is not sent a new
    // connection every second; the one that answers keeps its own, and hears every beat
    int heard = live.heartbeats().size();
    node.beats(3 * perSecond);
    assertThat(frozen.connections()).isEqualTo(2);
    assertThat(live.connections()).isEqualTo(1);
    assertThat(live.heartbeats()).hasSize(heard + 3 * perSecond);
  }

  @Test
  void onlyAnIpAddressThisHostNoLongerHasIsMovedAway() throws Exception {
    assertThat(HeartbeatSender.movedAway(null)).isFalse();
    assertThat(HeartbeatSender.movedAway(new io.grpc.inprocess.InProcessSocketAddress("x")))
        .isFalse();
    // the loopback address is this host's
    assertThat(
            HeartbeatSender.movedAway(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 4000)))
        .isFalse();
  }

  @Test
  void aTickThatRanLateDoesNotHoldUpTheBeatsOfTheNextToAFrozenCoordinator() {
    FakeCoordinator frozen = coordinator("coord-frozen", FROZEN);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(frozen.name()));
    long half = runTheSecondTickLate(node);
    node.clock.advance(half); // 40 ms: beat 1 (0 ms) given up, beat 3 out
    // 60 ms: beat 2 was sent only 30 ms ago, but its tick was due two ticks ago: given up, and
    // beat 4 goes out (aged by the time sent, beats 2 and 3 would fill both places)
    node.clock.advance(2 * half);
    node.beats(2);

    assertThat(frozen.heartbeats())
        .extracting(HeartbeatRequest::getSequence)
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(frozen.mostHeartbeatsOpenAtOnce()).isEqualTo(2);
  }

  @Test
  void beatsKeepToTheirScheduleWhenOneRunsLate() {
    FakeCoordinator coord = coordinator("coord", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(coord.name()));
    long half = runTheSecondTickLate(node);
    assertThat(coord.heartbeats()).hasSize(2);

    // the next is due at 40 ms, as if the late one had been on time (not 20 ms after it, at 50)
    node.clock.advance(half);
    assertThat(coord.heartbeats()).hasSize(3);
  }

  @Test
  void beatsMissedWhileTheProcessWasPausedAreSkippedNotSentInABurst() {
    FakeCoordinator coord = coordinator("coord", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(coord.name()));
    node.beats(1);

    node.clock.pauseFor(TestNode.BEAT.multipliedBy(10).toNanos()); // SIGSTOP for 10 intervals
    node.clock.advance(0); // SIGCONT: the overdue tick runs at once

    // one beat says "I am back"; the 9 other missed ones are gone, and the rate is as before
    assertThat(coord.heartbeats()).hasSize(3);
    node.beats(2);
    assertThat(coord.heartbeats()).hasSize(5);
  }

  /**
   * Runs the tick due at 20 ms at 30 ms (the node was held up for half a beat): its beat goes out
   * then.
   *
   * @return half a beat, in nanoseconds
   */
  private static long runTheSecondTickLate(TestNode node) {
    long half = TestNode.BEAT.toNanos() / 2;
    node.clock.pauseFor(3 * half);
    node.clock.advance(0);
    return half;
  }

  /** Beats until {@code coord} has heard one: reconnecting is gRPC's business, in real time. */
  private static void beatUntilHeardBy(TestNode node, FakeCoordinator coord) {
    node.beatUntil(
        "a beat reaches " + coord.name(),
        REREGISTRATION_BOUND,
        () -> !coord.heartbeats().isEmpty());
  }

  private static int inFlightSeenBy(FakeCoordinator coord) {
    HeartbeatRequest last = coord.lastHeartbeat();
    return last == null ? -1 : last.getLoad().getInFlight();
  }
}
