package ftlab.node;

import static ftlab.node.FakeCoordinator.Behaviour.ANSWERS;
import static ftlab.node.Requests.compute;
import static ftlab.node.Requests.echo;
import static ftlab.node.Requests.statusOf;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import ftlab.node.faults.FaultText;
import ftlab.proto.CrashRequest;
import ftlab.proto.Faults;
import ftlab.proto.FaultsReply;
import ftlab.proto.GetFaultsRequest;
import ftlab.proto.HealRequest;
import ftlab.proto.HeartbeatRequest;
import ftlab.proto.Lie;
import ftlab.proto.NodeAdminGrpc;
import ftlab.proto.SetFaultsRequest;
import ftlab.proto.Slow;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The NodeAdmin service of a whole node ({@link NodeServer}, in-process), and what its faults do to
 * the node's heartbeats. Contract: {@code faults.proto}; design doc: architecture.md, section
 * "Heartbeats".
 */
class NodeAdminTest {
  @RegisterExtension final InProcessGrpc grpc = new InProcessGrpc();

  private FakeCoordinator coord;

  private TestNode start() {
    coord = FakeCoordinator.start(grpc, InProcessGrpc.uniqueName("coord"), ANSWERS);
    return TestNode.start(grpc, "node-3", 2, List.of(coord.name()));
  }

  private static FaultsReply set(TestNode node, Faults.Builder faults) {
    return node.admin
        .withDeadlineAfter(5, SECONDS)
        .setFaults(SetFaultsRequest.newBuilder().setFaults(faults).build());
  }

  private static FaultsReply heal(TestNode node) {
    return node.admin.withDeadlineAfter(5, SECONDS).heal(HealRequest.getDefaultInstance());
  }

  private static FaultsReply get(TestNode node) {
    return node.admin
        .withDeadlineAfter(5, SECONDS)
        .getFaults(GetFaultsRequest.getDefaultInstance());
  }

  @Test
  void setFaultsReplacesTheKindsGivenKeepsTheOthersAndHealClearsThemAll() {
    TestNode node = start();

    FaultsReply slow = set(node, Faults.newBuilder().setSlow(Slow.newBuilder().setDelayMs(100)));
    FaultsReply slowAndLie =
        set(node, Faults.newBuilder().setLie(Lie.newBuilder().setFraction(0.3)));
    FaultsReply slowerAndLie =
        set(node, Faults.newBuilder().setSlow(Slow.newBuilder().setDelayMs(200).setFraction(0.5)));

    assertThat(slow.getNodeId()).isEqualTo("node-3");
    assertThat(slow.getDescription()).isEqualTo("slow 100 ms on every task");
    assertThat(slowAndLie.getDescription())
        .isEqualTo("slow 100 ms on every task; lie on 30% of tasks");
    assertThat(slowerAndLie.getDescription())
        .isEqualTo("slow 200 ms on 50% of tasks; lie on 30% of tasks");
    assertThat(get(node)).isEqualTo(slowerAndLie);

    FaultsReply healed = heal(node);

    assertThat(healed.getFaults()).isEqualTo(Faults.getDefaultInstance());
    assertThat(healed.getDescription()).isEmpty();
    assertThat(get(node)).isEqualTo(healed);
  }

  @Test
  void faultsOutOfRangeAreRefusedAndTheOldOnesStay() {
    TestNode node = start();
    set(node, Faults.newBuilder().setLie(Lie.getDefaultInstance()));

    Status refused =
        statusOf(
            () -> set(node, Faults.newBuilder().setSlow(Slow.newBuilder().setDelayMs(90_000))));

    assertThat(refused.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(refused.getDescription())
        .isEqualTo(
            "slow.delay_ms must be between 0 and 60000 ms, got 90000; the faults are unchanged");
    assertThat(get(node).getDescription()).isEqualTo("lie on every task");
  }

  @Test
  void injectedFaultsReachTheWorkerService() {
    TestNode node = start();
    set(node, Faults.newBuilder().setError(ftlab.proto.Error.newBuilder().setCode("INTERNAL")));

    Status failed = statusOf(() -> node.blocking.compute(compute(echo(0, "x"))));

    assertThat(failed.getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(failed.getDescription()).isEqualTo("node-3: injected fault: INTERNAL on every task");
  }

  @Test
  void everyBeatCarriesTheFaultsInForce() {
    TestNode node = start();
    assertThat(coord.lastHeartbeat().hasFaults()).isFalse(); // healthy: nothing to report

    FaultsReply lying = set(node, Faults.newBuilder().setLie(Lie.newBuilder().setFraction(0.3)));

    // a fault that does not show in the beats has not taken effect (membership.proto): the next
    // beat after the admin's reply shows it
    node.beats(1);
    assertThat(coord.lastHeartbeat().getFaults()).isEqualTo(lying.getFaults());
    heal(node);
    node.beats(1);
    assertThat(coord.lastHeartbeat().hasFaults()).isFalse();
  }

  @Test
  void aNodeStartedWithFaultsReportsThemFromItsFirstBeat() {
    coord = FakeCoordinator.start(grpc, InProcessGrpc.uniqueName("coord"), ANSWERS);
    TestNode node =
        TestNode.start(
            grpc,
            "node-3",
            2,
            List.of(coord.name()),
            TestNode.BEAT,
            FaultText.parse("slow:200ms+50ms@10%"));

    assertThat(coord.heartbeats())
        .singleElement()
        .satisfies(
            beat ->
                assertThat(beat.getFaults().getSlow())
                    .isEqualTo(
                        Slow.newBuilder()
                            .setDelayMs(200)
                            .setJitterMs(50)
                            .setFraction(0.1)
                            .build()));
    assertThat(get(node).getDescription()).isEqualTo("slow 200-250 ms on 10% of tasks");
  }

  @Test
  void aFrozenNodeSendsNoBeatsAndBeatsAgainWhenHealed() {
    TestNode node = start();
    node.beats(2);

    set(node, Faults.newBuilder().setFreeze(true));

    assertSilent(node, coord);
    // the node itself still answers its admin, so that it can be healed
    assertThat(get(node).getFaults().getFreeze()).isTrue();

    heal(node);

    // it resumes by itself at its next tick, with the same incarnation: the same process
    int beats = coord.heartbeats().size();
    node.beats(3);
    assertThat(coord.heartbeats()).hasSize(beats + 3);
    assertThat(coord.lastHeartbeat().getIncarnation()).isEqualTo(node.server.incarnation());
    assertThat(coord.lastHeartbeat().hasFaults()).isFalse();
  }

  @Test
  void aMutedNodeSendsNoBeatsButStillServesTasks() {
    TestNode node = start();
    node.beats(2);

    set(node, Faults.newBuilder().setMuteHeartbeats(true));

    assertSilent(node, coord);
    // a one-way partition: the coordinators stop hearing it, but it works when called
    assertThat(
            node.blocking
                .withDeadlineAfter(5, SECONDS)
                .compute(compute(echo(0, "still here")))
                .getResult()
                .getEchoed())
        .isEqualTo("still here");

    heal(node);
    int beats = coord.heartbeats().size();
    node.beats(3);
    assertThat(coord.heartbeats()).hasSize(beats + 3);
  }

  @Test
  void crashRepliesFirstThenStopsTheNodeWithoutAGoodbye() throws Exception {
    TestNode node = start();
    node.beats(2);

    var reply = node.admin.withDeadlineAfter(5, SECONDS).crash(CrashRequest.getDefaultInstance());

    assertThat(reply.getNodeId()).isEqualTo("node-3");
    // In production the halt is Runtime.halt(137); here it stops the node in-process.
    assertThat(node.halted.await(5, SECONDS)).isTrue();
    node.assertBeatsStopped(coord);
    assertThat(coord.leaves()).isEmpty(); // a crash, not a graceful leave
    Status gone = statusOf(() -> node.blocking.compute(compute(echo(0, "anyone?"))));
    assertThat(gone.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void theAdminServiceIsInTheHealthService() {
    TestNode node = start();
    var health = HealthGrpc.newBlockingStub(grpc.channel(node.address));

    var status =
        health
            .withDeadlineAfter(5, SECONDS)
            .check(HealthCheckRequest.newBuilder().setService(NodeAdminGrpc.SERVICE_NAME).build());

    assertThat(status.getStatus()).isEqualTo(ServingStatus.SERVING);
  }

  /**
   * The coordinator hears no more beats from the node ({@link TestNode#assertNoBeatHeardBy}), and
   * none of its beats reported the fault: a beat is either sent with the faults in force or not
   * sent at all.
   */
  private static void assertSilent(TestNode node, FakeCoordinator coord) {
    node.assertNoBeatHeardBy(coord);
    assertThat(coord.heartbeats())
        .extracting(HeartbeatRequest::getFaults)
        .allSatisfy(
            f -> {
              assertThat(f.getFreeze()).isFalse();
              assertThat(f.getMuteHeartbeats()).isFalse();
            });
  }
}
