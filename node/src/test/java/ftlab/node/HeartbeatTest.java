package ftlab.node;

import static ftlab.node.Eventually.eventually;
import static ftlab.node.FakeCoordinator.Behaviour.ANSWERS;
import static ftlab.node.FakeCoordinator.Behaviour.FROZEN;
import static ftlab.node.Requests.compute;
import static ftlab.node.Requests.echo;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;

import com.google.common.util.concurrent.ListenableFuture;
import ftlab.proto.ComputeResponse;
import ftlab.proto.HeartbeatRequest;
import ftlab.proto.Load;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a node's heartbeats carry, and that they keep reaching every coordinator that can hear them,
 * whatever the other coordinators do. Design doc: architecture.md, section "Heartbeats".
 *
 * <p>The node beats every 20 ms on a real timer, so these tests wait for beats with bounded polls.
 */
class HeartbeatTest {
  /**
   * A coordinator that is reachable again must hear from the node within this bound. gRPC waits
   * about 1 s before its first reconnect, then longer and longer; the node cuts that wait short
   * about once a second (see HeartbeatSender). Measured: 0.3 to 0.9 s, even with every CPU busy;
   * the rest is slack for a slow machine.
   */
  private static final Duration REREGISTRATION_BOUND = Duration.ofSeconds(4);

  @RegisterExtension final InProcessGrpc grpc = new InProcessGrpc();

  private FakeCoordinator coordinator(String label, FakeCoordinator.Behaviour behaviour) {
    return FakeCoordinator.start(grpc, InProcessGrpc.uniqueName(label), behaviour);
  }

  @Test
  void beatsCarryTheNodesIdentityAndLoad() {
    FakeCoordinator coord = coordinator("coord", ANSWERS);
    // A slow beat here, so that beat number 1 is sure to arrive. The first gRPC call in a fresh JVM
    // loads hundreds of classes and can take longer than the 2 x 20 ms a beat is given; the node
    // then drops that beat by design (the next one will do), and the coordinator would never see
    // number 1. 250 ms gives each beat 500 ms.
    Duration interval = Duration.ofMillis(250);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(coord.name()), interval);

    eventually().until(() -> coord.heartbeats().size(), greaterThanOrEqualTo(3));

    List<HeartbeatRequest> beats = coord.heartbeats();
    assertThat(beats)
        .allSatisfy(
            beat -> {
              assertThat(beat.getNodeId()).isEqualTo("node-1");
              assertThat(beat.getAddress()).isEqualTo(node.address);
              // one incarnation for the whole life of the process: it changes only on restart
              assertThat(beat.getIncarnation()).isEqualTo(node.server.incarnation());
              assertThat(beat.getIntervalMs()).isEqualTo(interval.toMillis());
              assertThat(beat.getLoad())
                  .isEqualTo(Load.newBuilder().setInFlight(0).setCapacity(2).build());
            });
    // Sequence numbers count beats from 1 within an incarnation, so that a coordinator can drop a
    // stale or reordered beat. The node never has two beats out to the same coordinator, so they
    // arrive in order.
    assertThat(beats)
        .extracting(HeartbeatRequest::getSequence)
        .startsWith(1L)
        .doesNotHaveDuplicates()
        .isSorted();
  }

  @Test
  void beatsReportTheTasksInFlight() {
    FakeCoordinator coord = coordinator("coord", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(coord.name()));

    ListenableFuture<ComputeResponse> held =
        node.async.withDeadlineAfter(30, SECONDS).compute(compute(echo(10_000, "held")));
    eventually().until(() -> inFlightSeenBy(coord), equalTo(1));

    held.cancel(true);
    eventually().until(() -> inFlightSeenBy(coord), equalTo(0));
    assertThat(coord.lastHeartbeat().getLoad().getCapacity()).isEqualTo(2);
  }

  @Test
  void beatsGoToEveryCoordinator() {
    FakeCoordinator first = coordinator("coord-a", ANSWERS);
    FakeCoordinator second = coordinator("coord-b", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(first.name(), second.name()));

    eventually().until(() -> first.heartbeats().size(), greaterThanOrEqualTo(3));
    eventually().until(() -> second.heartbeats().size(), greaterThanOrEqualTo(3));

    // each coordinator has its own view of the cluster, built from the same beats
    for (FakeCoordinator coord : List.of(first, second)) {
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
    TestNode.start(grpc, "node-1", 2, List.of(early.name(), lateName));

    // The early coordinator is our clock: 25 beats = 0.5 s during which every beat to the late one
    // failed, and gRPC began to wait before trying to connect to it again.
    eventually().until(() -> early.heartbeats().size(), greaterThanOrEqualTo(25));
    long sequenceAtStart = early.lastHeartbeat().getSequence();
    FakeCoordinator late = FakeCoordinator.start(grpc, lateName, ANSWERS);

    eventually()
        .atMost(REREGISTRATION_BOUND)
        .until(() -> late.heartbeats().size(), greaterThanOrEqualTo(1));
    // the beats it missed are not replayed: it simply hears the current ones
    assertThat(late.heartbeats().get(0).getSequence()).isGreaterThanOrEqualTo(sequenceAtStart);
  }

  @Test
  void aRestartedCoordinatorHearsFromTheNodeAgain() throws InterruptedException {
    FakeCoordinator clock = coordinator("coord-clock", ANSWERS);
    FakeCoordinator before = coordinator("coord", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(clock.name(), before.name()));
    eventually().until(() -> before.heartbeats().size(), greaterThanOrEqualTo(3));

    before.stop(); // crashed: it forgets everything it knew, as a restarted process would
    int beatsAtCrash = clock.heartbeats().size();
    // stay down for 10 beats (0.2 s): every beat to it fails meanwhile
    eventually().until(() -> clock.heartbeats().size(), greaterThanOrEqualTo(beatsAtCrash + 10));
    long lastSequenceBefore = before.lastHeartbeat().getSequence();
    FakeCoordinator after = FakeCoordinator.start(grpc, before.name(), ANSWERS);

    // A coordinator learns about nodes only from their beats, so the next beat that gets through
    // re-registers the node, with everything the restarted coordinator needs to know about it.
    eventually()
        .atMost(REREGISTRATION_BOUND)
        .until(() -> after.heartbeats().size(), greaterThanOrEqualTo(1));
    HeartbeatRequest first = after.heartbeats().get(0);
    assertThat(first.getNodeId()).isEqualTo("node-1");
    assertThat(first.getAddress()).isEqualTo(node.address);
    // the same process: the same incarnation, and the count goes on
    assertThat(first.getIncarnation()).isEqualTo(node.server.incarnation());
    assertThat(first.getSequence()).isGreaterThan(lastSequenceBefore);
  }

  @Test
  void aFrozenCoordinatorDoesNotHoldUpBeatsToTheOthers() {
    FakeCoordinator frozen = coordinator("coord-frozen", FROZEN);
    FakeCoordinator live = coordinator("coord-live", ANSWERS);
    TestNode.start(grpc, "node-1", 2, List.of(frozen.name(), live.name()));

    eventually().until(() -> frozen.heartbeats().size(), greaterThanOrEqualTo(1));
    int beatsSoFar = live.heartbeats().size();

    // 20 more beats take 0.4 s at 20 ms; each beat to the frozen coordinator waits up to 40 ms for
    // an answer that never comes, on its own, while the live coordinator keeps hearing the node.
    eventually()
        .atMost(Duration.ofSeconds(2))
        .until(() -> live.heartbeats().size(), greaterThanOrEqualTo(beatsSoFar + 20));
    // The node keeps trying the frozen one too (it hears the node as soon as it thaws), but with
    // at most one beat out at a time, so it gets fewer beats than the live one.
    assertThat(frozen.heartbeats().size()).isGreaterThan(1).isLessThan(live.heartbeats().size());
  }

  private static int inFlightSeenBy(FakeCoordinator coord) {
    HeartbeatRequest last = coord.lastHeartbeat();
    return last == null ? -1 : last.getLoad().getInFlight();
  }
}
