package ftlab.node;

import static ftlab.node.Eventually.eventually;
import static ftlab.node.Requests.compute;
import static ftlab.node.Requests.echo;
import static ftlab.node.Requests.statusOf;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.ListenableFuture;
import ftlab.proto.ComputeResponse;
import ftlab.proto.Faults;
import ftlab.proto.HealRequest;
import ftlab.proto.Lie;
import ftlab.proto.SetFaultsRequest;
import ftlab.proto.Task;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What only a node knows, as meters: how its tasks ended, what runs now, which faults it has. */
class NodeMetersTest {
  @RegisterExtension final InProcessGrpc grpc = new InProcessGrpc();

  private final MeterRegistry registry = new SimpleMeterRegistry();

  private TestNode start(int capacity) {
    TestNode node = TestNode.start(grpc, "node-1", capacity, List.of());
    node.server.listenTasks(new NodeMeters(registry, node.server));
    return node;
  }

  private double tasks(String outcome) {
    return registry.get("ftlab.worker.tasks").tag("outcome", outcome).counter().count();
  }

  private double gauge(String name, String... tags) {
    return registry.get(name).tags(tags).gauge().value();
  }

  private static void faults(TestNode node, Faults faults) {
    node.admin
        .withDeadlineAfter(5, SECONDS)
        .setFaults(SetFaultsRequest.newBuilder().setFaults(faults).build());
  }

  @Test
  void tasksAreCountedByHowTheyEnded() throws Exception {
    TestNode node = start(1);

    node.blocking.compute(compute(echo(0, "a")));
    assertThat(tasks("answered")).isEqualTo(1);

    Status invalid = statusOf(() -> node.blocking.compute(compute(Task.getDefaultInstance())));
    assertThat(invalid.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(tasks("invalid")).isEqualTo(1);

    // one task holds the only slot (an echo that waits on the node's clock): the next is busy
    ListenableFuture<ComputeResponse> holding = node.async.compute(compute(echo(50, "held")));
    eventually().until(() -> node.clock.pendingDelays().contains(50_000_000L));
    assertThat(gauge("ftlab.worker.running")).isEqualTo(1);
    Status busy = statusOf(() -> node.blocking.compute(compute(echo(0, "b"))));
    assertThat(busy.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(tasks("busy")).isEqualTo(1);
    node.clock.advance(50_000_000L);
    holding.get(5, SECONDS);
    assertThat(tasks("answered")).isEqualTo(2);
    assertThat(gauge("ftlab.worker.running")).isZero();
    assertThat(gauge("ftlab.worker.capacity")).isEqualTo(1);

    faults(node, Faults.newBuilder().setLie(Lie.newBuilder().setFraction(1)).build());
    node.blocking.compute(compute(echo(0, "c")));
    assertThat(tasks("lied")).isEqualTo(1);
    assertThat(tasks("answered")).isEqualTo(2);
  }

  @Test
  void activeFaultsAreGaugedUntilHealed() {
    TestNode node = start(4);
    assertThat(gauge("ftlab.worker.fault.active", "fault", "freeze")).isZero();

    faults(node, Faults.newBuilder().setFreeze(true).setMuteHeartbeats(true).build());
    assertThat(gauge("ftlab.worker.fault.active", "fault", "freeze")).isEqualTo(1);
    assertThat(gauge("ftlab.worker.fault.active", "fault", "mute_heartbeats")).isEqualTo(1);
    assertThat(gauge("ftlab.worker.fault.active", "fault", "slow")).isZero();

    node.admin.withDeadlineAfter(5, SECONDS).heal(HealRequest.getDefaultInstance());
    assertThat(gauge("ftlab.worker.fault.active", "fault", "freeze")).isZero();
    assertThat(gauge("ftlab.worker.fault.active", "fault", "mute_heartbeats")).isZero();
  }
}
