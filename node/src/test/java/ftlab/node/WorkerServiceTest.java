package ftlab.node;

import static ftlab.node.Eventually.eventually;
import static ftlab.node.Requests.compute;
import static ftlab.node.Requests.echo;
import static ftlab.node.Requests.primes;
import static ftlab.node.Requests.statusOf;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import com.google.common.util.concurrent.ListenableFuture;
import ftlab.clock.FakeClock;
import ftlab.node.faults.NodeFaults;
import ftlab.proto.ComputeResponse;
import ftlab.proto.Task;
import ftlab.proto.WorkerGrpc;
import ftlab.task.Tasks;
import io.grpc.Status;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Worker service on its own, behind a real in-process server: results, refusals and
 * cancellation as a caller sees them. Design doc: architecture.md, section "Node".
 */
class WorkerServiceTest {
  private static final String NODE_ID = "node-under-test";

  @RegisterExtension final InProcessGrpc grpc = new InProcessGrpc();

  /** The tasks' waits (an echo's delay) run on it: nothing happens until the test moves it. */
  private final FakeClock clock = new FakeClock();

  private WorkerService worker;
  private WorkerGrpc.WorkerBlockingStub blocking;
  private WorkerGrpc.WorkerFutureStub async;

  private void startWorker(int capacity) throws IOException {
    String name = InProcessGrpc.uniqueName("worker");
    worker =
        new WorkerService(
            NODE_ID, capacity, NodeFaults.healthy(NODE_ID), ThreadLocalRandom::current, clock);
    grpc.register(InProcessServerBuilder.forName(name).addService(worker).build().start());
    blocking = WorkerGrpc.newBlockingStub(grpc.channel(name));
    async = WorkerGrpc.newFutureStub(grpc.channel(name));
  }

  /** The blocking stub with a deadline of its own for each call (a stub's deadline is fixed). */
  private WorkerGrpc.WorkerBlockingStub blocking() {
    return blocking.withDeadlineAfter(5, SECONDS);
  }

  static Stream<Task> validTasks() {
    return Stream.of(
        primes(0, 1_000_001), // pi(10^6) = 78498
        primes(Tasks.MAX_PRIMES_TO - 100_000, Tasks.MAX_PRIMES_TO), // high up: a big sieve
        primes(24, 29), // no prime in [24, 29): the answer 0 must still be sent
        echo(0, "hello"),
        echo(20, ""));
  }

  @ParameterizedTest
  @MethodSource("validTasks")
  void answersWhatTheTaskCatalogueExpects(Task task) throws Exception {
    startWorker(2);

    ListenableFuture<ComputeResponse> call =
        async.withDeadlineAfter(5, SECONDS).compute(compute(task));
    if (task.hasEcho() && task.getEcho().getDelayMs() > 0) {
      Eventually.letWaitPass(clock, Duration.ofMillis(task.getEcho().getDelayMs()));
    }
    ComputeResponse response = call.get(5, SECONDS);

    // Tasks are deterministic: the node's answer must be the catalogue's, on every node.
    assertThat(response.getResult()).isEqualTo(Tasks.expectedResult(task));
    assertThat(response.getNodeId()).isEqualTo(NODE_ID);
    // how long it took, on the clock: an echo's delay exactly (a prime count takes no clock time)
    assertThat(response.getComputeMicros())
        .isEqualTo(task.hasEcho() ? task.getEcho().getDelayMs() * 1_000L : 0);
    assertThat(worker.inFlight()).isZero();
  }

  static Stream<Arguments> invalidTasks() {
    return Stream.of(
        Arguments.of(primes(-1, 10), "count_primes.from"),
        Arguments.of(primes(0, Tasks.MAX_PRIMES_TO + 1), "count_primes.to"),
        Arguments.of(primes(0, Tasks.MAX_PRIMES_WIDTH + 1), "to - from"),
        Arguments.of(echo(Tasks.MAX_ECHO_DELAY_MS + 1, "x"), "echo.delay_ms"),
        Arguments.of(echo(0, "x".repeat(Tasks.MAX_ECHO_LENGTH + 1)), "echo.value"),
        Arguments.of(Task.getDefaultInstance(), "count_primes or echo"));
  }

  @ParameterizedTest
  @MethodSource("invalidTasks")
  void refusesAnInvalidTaskNamingTheField(Task task, String field) throws IOException {
    startWorker(2);

    Status status = statusOf(() -> blocking().compute(compute(task)));

    // INVALID_ARGUMENT: retrying anywhere gives the same answer, so a coordinator does not fail
    // over
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription())
        .isEqualTo(Tasks.problem(task).orElseThrow())
        .contains(field);
  }

  @Test
  void refusesTheTaskBeyondCapacityAtOnce() throws Exception {
    startWorker(3);
    List<ListenableFuture<ComputeResponse>> held = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      held.add(async.withDeadlineAfter(30, SECONDS).compute(compute(echo(10_000, "held " + i))));
    }
    eventually().until(worker::inFlight, equalTo(3));

    // A node that queued the fourth task would keep this call waiting for the 10 s echoes and it
    // would end in DEADLINE_EXCEEDED after 2 s; a node that refuses answers at once.
    Status refusal =
        statusOf(
            () -> blocking.withDeadlineAfter(2, SECONDS).compute(compute(echo(0, "one too many"))));

    assertThat(refusal.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(refusal.getDescription())
        .isEqualTo(NODE_ID + " is at capacity (3 of 3 tasks running)");
    // the refused task took no slot, and the held ones are untouched
    assertThat(worker.inFlight()).isEqualTo(3);
    assertThat(held).noneMatch(ListenableFuture::isDone);

    held.forEach(call -> call.cancel(true));
    eventually().until(worker::inFlight, equalTo(0));
  }

  @Test
  void aCallerWhoseDeadlinePassesCancelsTheWorkAndFreesTheSlot() throws Exception {
    startWorker(1);
    // 1 s: time enough to see the task start on the node, even on a machine that stalls the test
    // for a moment; still far short of the echo's 10 s
    ListenableFuture<ComputeResponse> tooSlow =
        async.withDeadlineAfter(1, SECONDS).compute(compute(echo(10_000, "too slow")));
    eventually().until(worker::inFlight, equalTo(1)); // the task really started on the node

    Throwable failure = catchExecutionFailure(tooSlow);
    assertThat(Status.fromThrowable(failure).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);

    // The node stops the echo when the caller's deadline passes, long before its 10 s are up:
    // nobody would read the answer, and the slot is worth more to the next caller.
    eventually().until(worker::inFlight, equalTo(0));
    ComputeResponse next = blocking().compute(compute(echo(0, "next")));
    assertThat(next.getResult().getEchoed()).isEqualTo("next");
  }

  private static Throwable catchExecutionFailure(ListenableFuture<?> call)
      throws InterruptedException {
    try {
      call.get(5, SECONDS);
      throw new AssertionError("the call should have failed");
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError("the call did not end within 5 s", e);
    }
  }
}
