package ftlab.coordinator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.clock.FakeClock;
import ftlab.coordinator.dispatch.DispatchEvent;
import ftlab.coordinator.dispatch.Dispatcher;
import ftlab.coordinator.dispatch.GrpcNodeCaller;
import ftlab.coordinator.dispatch.Redundancy;
import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.DetectorConfig;
import ftlab.coordinator.membership.Heartbeat;
import ftlab.coordinator.membership.MembershipEvent;
import ftlab.coordinator.membership.NodeState;
import ftlab.coordinator.picker.NodePicker;
import ftlab.proto.Answer;
import ftlab.proto.Attempt;
import ftlab.proto.AttemptKind;
import ftlab.proto.AttemptOutcome;
import ftlab.proto.Ballot;
import ftlab.proto.HowAnswered;
import ftlab.proto.RedundancyMode;
import ftlab.proto.TaskResult;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's meters move with the events it already publishes, and its gauges read the
 * cluster and the dispatcher as they are: fed here by hand, on a fake clock.
 */
class CoordinatorMetersTest {
  private static final long MS = 1_000_000L;

  private final FakeClock clock = new FakeClock();
  private final MeterRegistry registry = new SimpleMeterRegistry();
  private CoordinatorMeters meters;
  private final Cluster cluster =
      new Cluster(DetectorConfig.DEFAULT, clock::nanoTime, e -> meters.onMembership(e));
  private final GrpcNodeCaller caller =
      new GrpcNodeCaller(a -> InProcessChannelBuilder.forName(a).build());
  private final Dispatcher dispatcher =
      new Dispatcher(
          "coordinator-1",
          cluster,
          new NodePicker(() -> 0L),
          caller,
          Dispatcher.Settings.DEFAULT,
          clock);

  {
    meters = new CoordinatorMeters(registry, cluster, dispatcher);
    meters.listenTo(dispatcher);
  }

  @AfterEach
  void close() {
    caller.close();
  }

  private void beat(String node, long seq) {
    cluster.heartbeat(new Heartbeat(node, node + ":7101", 1, seq, 2, 4));
  }

  private double gauge(String name, String... tags) {
    return registry.get(name).tags(tags).gauge().value();
  }

  private double count(String name, String... tags) {
    return registry.get(name).tags(tags).counter().count();
  }

  @Test
  void nodeGaugesFollowTheDetectorAndTransitionsAreCountedByFromAndTo() {
    beat("node-1", 1);
    beat("node-2", 1);
    assertThat(gauge("ftlab.nodes", "state", "ALIVE")).isEqualTo(2);
    assertThat(gauge("ftlab.node.state", "node", "node-1", "state", "ALIVE")).isEqualTo(1);
    assertThat(gauge("ftlab.node.load", "node", "node-1")).isEqualTo(2);
    assertThat(gauge("ftlab.node.capacity", "node", "node-1")).isEqualTo(4);
    assertThat(count("ftlab.membership.transitions", "from", "NONE", "to", "ALIVE")).isEqualTo(2);

    // node-2 falls silent for 700 ms; node-1 keeps beating
    for (int i = 1; i <= 7; i++) {
      clock.advance(100 * MS);
      beat("node-1", 1 + i);
      cluster.tick();
    }

    assertThat(gauge("ftlab.node.state", "node", "node-2", "state", "DEAD")).isEqualTo(1);
    assertThat(gauge("ftlab.node.state", "node", "node-2", "state", "ALIVE")).isZero();
    assertThat(gauge("ftlab.node.heartbeat.age", "node", "node-2")).isEqualTo(0.7);
    assertThat(gauge("ftlab.node.heartbeat.age", "node", "node-1")).isZero();
    assertThat(gauge("ftlab.nodes", "state", "ALIVE")).isEqualTo(1);
    assertThat(gauge("ftlab.nodes", "state", "DEAD")).isEqualTo(1);
    assertThat(count("ftlab.membership.transitions", "from", "ALIVE", "to", "SUSPECT"))
        .isEqualTo(1);
    assertThat(count("ftlab.membership.transitions", "from", "SUSPECT", "to", "DEAD")).isEqualTo(1);
  }

  @Test
  void aDisagreeingVoteCountsTheLosersAndTheRequestByModeAndOutcome() {
    Answer vote =
        Answer.newBuilder()
            .setHow(HowAnswered.HOW_VOTE)
            .setRedundancy(
                ftlab.proto.Redundancy.newBuilder().setMode(RedundancyMode.VOTE).setReplicas(3))
            .addTally(
                Ballot.newBuilder().setResult(result(25)).addNodeIds("node-1").addNodeIds("node-2"))
            .addTally(Ballot.newBuilder().setResult(result(26)).addNodeIds("node-3"))
            .build();

    meters.on(new DispatchEvent.Answered("req-1", vote, 12 * MS));

    assertThat(count("ftlab.requests", "mode", "vote", "outcome", "answered", "code", "OK"))
        .isEqualTo(1);
    assertThat(count("ftlab.vote.disagreements")).isEqualTo(1);
    assertThat(count("ftlab.votes.outvoted", "node", "node-3")).isEqualTo(1);
    assertThat(registry.find("ftlab.votes.outvoted").tag("node", "node-1").counter()).isNull();
    var timer = registry.get("ftlab.request.duration").tags("mode", "vote").timer();
    assertThat(timer.count()).isEqualTo(1);
    assertThat(timer.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(12);
  }

  @Test
  void attemptsAreCountedByNodeKindAndOutcomeAndFailuresByCode() {
    meters.on(
        new DispatchEvent.AttemptEnded(
            "req-1",
            Attempt.newBuilder()
                .setNodeId("node-2")
                .setKind(AttemptKind.PRIMARY)
                .setOutcome(AttemptOutcome.FAILED)
                .setFailureCode("UNAVAILABLE")
                .build(),
            3 * MS));
    meters.on(
        new DispatchEvent.AttemptEnded(
            "req-1",
            Attempt.newBuilder()
                .setNodeId("node-1")
                .setKind(AttemptKind.RETRY)
                .setOutcome(AttemptOutcome.ANSWERED)
                .build(),
            9 * MS));
    meters.on(
        new DispatchEvent.AttemptEnded(
            "req-2",
            Attempt.newBuilder()
                .setNodeId("node-3")
                .setKind(AttemptKind.HEDGE)
                .setOutcome(AttemptOutcome.CANCELLED)
                .build(),
            9 * MS));
    meters.on(
        new DispatchEvent.Failed(
            "req-3",
            Redundancy.FAILOVER,
            Status.UNAVAILABLE.withDescription("no node"),
            List.of(),
            20 * MS));

    assertThat(count("ftlab.attempts", "node", "node-2", "kind", "primary", "outcome", "failed"))
        .isEqualTo(1);
    assertThat(count("ftlab.attempts", "node", "node-1", "kind", "retry", "outcome", "answered"))
        .isEqualTo(1);
    assertThat(count("ftlab.attempts", "node", "node-3", "kind", "hedge", "outcome", "cancelled"))
        .isEqualTo(1);
    assertThat(count("ftlab.attempt.failures", "node", "node-2", "code", "UNAVAILABLE"))
        .isEqualTo(1);
    assertThat(registry.find("ftlab.attempt.failures").tag("node", "node-3").counter()).isNull();
    assertThat(
            count("ftlab.requests", "mode", "failover", "outcome", "failed", "code", "UNAVAILABLE"))
        .isEqualTo(1);
  }

  @Test
  void theModeGaugesFollowTheOperatorsSwitchAndQuarantinesAreCounted() {
    assertThat(gauge("ftlab.redundancy.mode", "mode", "failover")).isEqualTo(1);
    dispatcher.setRedundancy(new Redundancy(RedundancyMode.VOTE, 5));
    assertThat(gauge("ftlab.redundancy.mode", "mode", "failover")).isZero();
    assertThat(gauge("ftlab.redundancy.mode", "mode", "vote")).isEqualTo(1);
    assertThat(gauge("ftlab.redundancy.replicas")).isEqualTo(5);

    meters.onMembership(
        new MembershipEvent.Transition(
            "node-4", NodeState.ALIVE, NodeState.QUARANTINED, "outvoted 3 of 5"));
    assertThat(count("ftlab.quarantines", "node", "node-4")).isEqualTo(1);
    assertThat(count("ftlab.membership.transitions", "from", "ALIVE", "to", "QUARANTINED"))
        .isEqualTo(1);
  }

  private static TaskResult result(long primes) {
    return TaskResult.newBuilder().setPrimeCount(primes).build();
  }
}
