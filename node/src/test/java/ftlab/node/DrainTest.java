package ftlab.node;

import static ftlab.node.Eventually.eventually;
import static ftlab.node.FakeCoordinator.Behaviour.ANSWERS;
import static ftlab.node.FakeCoordinator.Behaviour.FROZEN;
import static ftlab.node.Requests.compute;
import static ftlab.node.Requests.echo;
import static ftlab.node.Requests.statusOf;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import com.google.common.util.concurrent.ListenableFuture;
import ftlab.proto.ComputeResponse;
import ftlab.proto.LeaveRequest;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The graceful exit, {@link NodeServer#drain}: what SIGTERM (or {@code docker stop}) does to a
 * node. Design doc: architecture.md, section "Graceful leave".
 */
class DrainTest {
  /** How long drain waits for the coordinators to acknowledge the goodbye (see NodeServer). */
  private static final Duration GOODBYE_TIMEOUT = Duration.ofSeconds(1);

  @RegisterExtension final InProcessGrpc grpc = new InProcessGrpc();

  private FakeCoordinator coordinator(String label, FakeCoordinator.Behaviour behaviour) {
    return FakeCoordinator.start(grpc, InProcessGrpc.uniqueName(label), behaviour);
  }

  @Test
  void drainSaysGoodbyeLetsTheRunningTaskFinishAndStopsBeating() throws Exception {
    FakeCoordinator first = coordinator("coord-a", ANSWERS);
    FakeCoordinator second = coordinator("coord-b", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(first.name(), second.name()));
    // 1.5 s on the node's clock, which stands still until the drain has begun
    ListenableFuture<ComputeResponse> running =
        node.async.withDeadlineAfter(30, SECONDS).compute(compute(echo(1_500, "finished")));
    // the node's own beats say when the task is running
    node.beatUntil("task running", Eventually.BOUND, () -> inFlightSeenBy(first) == 1);

    Duration drainTimeout = Duration.ofSeconds(5);
    CompletableFuture<Duration> draining =
        CompletableFuture.supplyAsync(() -> timedDrain(node, drainTimeout));
    // the drain has begun (the goodbyes are out) and waits for the task: let its time pass
    eventually().until(() -> first.leaves().size() + second.leaves().size(), equalTo(2));
    node.clock.advance(SECONDS.toNanos(2));
    Duration took = draining.get(drainTimeout.toSeconds() + 5, SECONDS);

    // The task running at drain time completed: SIGTERM is not a crash.
    assertThat(running.get(1, SECONDS).getResult().getEchoed()).isEqualTo("finished");
    // Drain returns as soon as the running tasks are done, not when the timeout is up.
    assertThat(took).isLessThan(drainTimeout);
    // Every coordinator heard the goodbye, so it marks the node LEFT at once instead of waiting
    // for the failure detector to call it DEAD. The incarnation says which process is leaving.
    for (FakeCoordinator coord : List.of(first, second)) {
      assertThat(coord.leaves())
          .singleElement()
          .satisfies(
              bye -> {
                assertThat(bye.getNodeId()).isEqualTo("node-1");
                assertThat(bye.getIncarnation()).isEqualTo(node.server.incarnation());
                assertThat(bye.getReason()).isNotBlank();
              });
    }
    node.assertBeatsStopped(first, second);
    // and the node takes no more work
    Status afterDrain = statusOf(() -> node.blocking.compute(compute(echo(0, "too late"))));
    assertThat(afterDrain.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void newTasksAreRefusedAsSoonAsDrainBegins() throws Exception {
    // The frozen coordinator never acknowledges the goodbye, so drain waits the full goodbye
    // timeout for it: a window in which the node has already said it is leaving.
    FakeCoordinator frozen = coordinator("coord-frozen", FROZEN);
    FakeCoordinator live = coordinator("coord-live", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(frozen.name(), live.name()));
    assertThat(live.heartbeats()).hasSize(1); // the first beat, sent at start

    long start = System.nanoTime();
    CompletableFuture<Void> draining =
        CompletableFuture.runAsync(() -> drain(node, Duration.ofSeconds(5)));
    eventually().until(() -> frozen.leaves().size(), equalTo(1));

    // The node has told the coordinators it is leaving: a task now must not start. UNAVAILABLE is
    // definite: the task did not run, so the caller may send it to another node.
    Status refusal = statusOf(() -> node.blocking.compute(compute(echo(0, "during drain"))));
    assertThat(refusal.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(refusal.getDescription()).contains("node-1", "draining");

    // A frozen coordinator costs the drain at most the goodbye timeout; the live one got its
    // goodbye all the same.
    draining.get(GOODBYE_TIMEOUT.toMillis() + 2_000, TimeUnit.MILLISECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isLessThan(GOODBYE_TIMEOUT.plusSeconds(2));
    assertThat(live.leaves()).extracting(LeaveRequest::getNodeId).containsExactly("node-1");
  }

  @Test
  void drainCancelsATaskThatOutlastsTheDrainTimeout() throws Exception {
    FakeCoordinator coord = coordinator("coord", ANSWERS);
    TestNode node = TestNode.start(grpc, "node-1", 2, List.of(coord.name()));
    ListenableFuture<ComputeResponse> endless =
        node.async.withDeadlineAfter(30, SECONDS).compute(compute(echo(10_000, "never")));
    node.beatUntil("task running", Eventually.BOUND, () -> inFlightSeenBy(coord) == 1);

    Duration drainTimeout = Duration.ofMillis(200);
    Duration took = timedDrain(node, drainTimeout);

    // The drain timeout bounds how long a stopping node waits: the task is cut off, not awaited.
    assertThat(took).isLessThan(drainTimeout.plus(GOODBYE_TIMEOUT).plusSeconds(1));
    // The node ends the task itself, with UNAVAILABLE: a coordinator retries that on another node
    // (the task has no side effects). Resetting the call instead would reach the caller as
    // CANCELLED, "the caller gave up", which a coordinator does not retry.
    Status stopped = Status.fromThrowable(catchFailure(endless));
    assertThat(stopped.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(stopped.getDescription()).contains("node-1", "stopped the task");
    assertThat(coord.leaves()).hasSize(1);
  }

  private static int inFlightSeenBy(FakeCoordinator coord) {
    var last = coord.lastHeartbeat();
    return last == null ? -1 : last.getLoad().getInFlight();
  }

  private static Duration timedDrain(TestNode node, Duration timeout) {
    long start = System.nanoTime();
    drain(node, timeout);
    return Duration.ofNanos(System.nanoTime() - start);
  }

  private static void drain(TestNode node, Duration timeout) {
    try {
      node.server.drain(timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CompletionException(e);
    }
  }

  private static Throwable catchFailure(ListenableFuture<?> call) throws Exception {
    try {
      call.get(5, SECONDS);
      throw new AssertionError("the call should have failed");
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }
}
