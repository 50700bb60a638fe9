package ftlab.node;

import static ftlab.node.Eventually.eventually;
import static ftlab.node.Requests.compute;
import static ftlab.node.Requests.echo;
import static ftlab.node.Requests.primes;
import static ftlab.node.Requests.statusOf;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import com.google.common.util.concurrent.ListenableFuture;
import ftlab.clock.FakeClock;
import ftlab.node.faults.FaultText;
import ftlab.node.faults.NodeFaults;
import ftlab.node.faults.ScriptedRandom;
import ftlab.proto.ComputeResponse;
import ftlab.proto.Failures;
import ftlab.proto.Task;
import ftlab.proto.WorkerGrpc;
import ftlab.task.Tasks;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Worker service with injected faults, behind a real in-process server: what a caller (a
 * coordinator) sees of a slow, failing, lying or frozen node. The faults are set on the node's
 * {@link NodeFaults} directly, and the per-task draws are scripted. Contract: {@code faults.proto};
 * design doc: architecture.md, section "Node".
 */
class FaultInjectionTest {
  private static final String NODE_ID = "node-3";

  /** How long a test checks that a held task stays unanswered. */
  private static final Duration HELD_FOR = Duration.ofMillis(300);

  @RegisterExtension final InProcessGrpc grpc = new InProcessGrpc();

  /** The tasks' waits (an echo's delay, a slowness) run on it. */
  private final FakeClock clock = new FakeClock();

  private NodeFaults faults;
  private WorkerService worker;
  private WorkerGrpc.WorkerBlockingStub blocking;
  private WorkerGrpc.WorkerFutureStub async;

  private void startWorker(int capacity, ScriptedRandom random) throws IOException {
    String name = InProcessGrpc.uniqueName("worker");
    faults = NodeFaults.healthy(NODE_ID);
    worker = new WorkerService(NODE_ID, capacity, faults, () -> random, clock);
    grpc.register(InProcessServerBuilder.forName(name).addService(worker).build().start());
    blocking = WorkerGrpc.newBlockingStub(grpc.channel(name));
    async = WorkerGrpc.newFutureStub(grpc.channel(name));
  }

  /** The blocking stub with a deadline of its own for each call (a stub's deadline is fixed). */
  private WorkerGrpc.WorkerBlockingStub blocking() {
    return blocking.withDeadlineAfter(5, SECONDS);
  }

  private void inject(String text) {
    faults.set(FaultText.parse(text), "test");
  }

  @Test
  void slowAddsTheDelayAndItsJitterBeforeAnswering() throws Exception {
    // jitter drawn: 40 of 0..50, so 100 + 40 ms
    startWorker(2, new ScriptedRandom(40));
    inject("slow:100ms+50ms");

    ListenableFuture<ComputeResponse> call =
        async.withDeadlineAfter(5, SECONDS).compute(compute(echo(0, "late")));
    // the task waits 140 ms on the clock, holding its slot, and answers when they have passed
    Eventually.letWaitPass(clock, Duration.ofMillis(140));
    ComputeResponse response = call.get(5, SECONDS);

    assertThat(response.getComputeMicros()).isEqualTo(140_000);
    // a slow answer is still the right answer
    assertThat(response.getResult().getEchoed()).isEqualTo("late");
  }

  @Test
  void aSlowedTaskHoldsItsSlotAndItsCallerCanStillGiveUp() throws Exception {
    startWorker(1, new ScriptedRandom());
    inject("slow:10s");
    // held until the test lets go (not until a short deadline, which a slow machine could miss)
    ListenableFuture<ComputeResponse> slowed =
        async.withDeadlineAfter(30, SECONDS).compute(compute(echo(0, "slowed")));
    eventually().until(worker::inFlight, equalTo(1));

    // the slowed task takes the only slot, as a really slow task would
    Status refusal = statusOf(() -> blocking().compute(compute(echo(0, "one too many"))));
    assertThat(refusal.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);

    // the added delay stops when the caller gives up, not 10 s later
    slowed.cancel(true);
    eventually().until(worker::inFlight, equalTo(0));

    // and when the caller's deadline passes: the slot is free again long before the 10 s
    ListenableFuture<ComputeResponse> timed =
        async.withDeadlineAfter(300, MILLISECONDS).compute(compute(echo(0, "timed")));
    assertThat(Status.fromThrowable(failureOf(timed)).getCode())
        .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    eventually().until(worker::inFlight, equalTo(0));
  }

  @Test
  void anInjectedErrorIsTheNodesOwnAnswer() throws Exception {
    // error@20%: the first draw (0.5) misses, the second (0.1) hits
    startWorker(2, new ScriptedRandom(0.5, 0.1));
    inject("error:INTERNAL@20%");

    ComputeResponse spared = blocking().compute(compute(echo(0, "spared")));
    StatusRuntimeException hit =
        (StatusRuntimeException)
            org.assertj.core.api.Assertions.catchThrowable(
                () -> blocking().compute(compute(echo(0, "hit"))));

    assertThat(spared.getResult().getEchoed()).isEqualTo("spared");
    assertThat(hit.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(hit.getStatus().getDescription())
        .isEqualTo("node-3: injected fault: INTERNAL on 20% of tasks");
    // Like the node's other own errors it carries the answered-by trailer: the node is up and
    // talking, so a coordinator takes it as no evidence of a failure, and as definite.
    assertThat(Failures.answeredByPeer(hit)).isTrue();
    assertThat(Failures.mayHaveRun(hit)).isFalse();
    assertThat(worker.inFlight()).isZero();
  }

  @Test
  void aLyingNodeReturnsAPlausibleWrongResultAndAHealedOneTheRightResult() throws Exception {
    startWorker(2, new ScriptedRandom());
    Task count = primes(0, 1_000_001); // pi(10^6) = 78498
    Task echo = echo(0, "r41");

    inject("lie");
    ComputeResponse lyingCount = blocking().compute(compute(count));
    ComputeResponse lyingEcho = blocking().compute(compute(echo));
    faults.heal("test");
    ComputeResponse honestCount = blocking().compute(compute(count));
    ComputeResponse honestEcho = blocking().compute(compute(echo));

    assertThat(lyingCount.getResult().getPrimeCount()).isEqualTo(78_499);
    assertThat(lyingEcho.getResult().getEchoed()).isEqualTo("r42");
    assertThat(honestCount.getResult()).isEqualTo(Tasks.expectedResult(count));
    assertThat(honestEcho.getResult()).isEqualTo(Tasks.expectedResult(echo));
  }

  @Test
  void aFractionOfTasksLies() throws Exception {
    // lie@30%: draws 0.9 (truth), 0.2 (lie), 0.3 (truth: not below 0.3)
    startWorker(2, new ScriptedRandom(0.9, 0.2, 0.3));
    inject("lie@30%");

    List<String> answers =
        List.of("a1", "a2", "a3").stream()
            .map(v -> blocking().compute(compute(echo(0, v))).getResult().getEchoed())
            .toList();

    assertThat(answers).containsExactly("a1", "a3", "a3");
  }

  @Test
  void aFrozenNodeHoldsATaskUnansweredUntilTheFreezeIsLifted() throws Exception {
    startWorker(2, new ScriptedRandom());
    inject("freeze");

    ListenableFuture<ComputeResponse> held =
        async.withDeadlineAfter(30, SECONDS).compute(compute(echo(0, "held")));
    Awaitility.await()
        .during(HELD_FOR)
        .atMost(HELD_FOR.multipliedBy(3))
        .until(() -> !held.isDone());
    // held before it took a slot: see WorkerService
    assertThat(worker.inFlight()).isZero();

    faults.heal("test");

    assertThat(held.get(5, SECONDS).getResult().getEchoed()).isEqualTo("held");
  }

  @Test
  void aFrozenNodeLetsTheCallersDeadlinePass() throws Exception {
    startWorker(2, new ScriptedRandom());
    inject("freeze");

    Status status =
        statusOf(
            () -> blocking.withDeadlineAfter(200, MILLISECONDS).compute(compute(echo(0, "never"))));

    // silence until the deadline: the caller cannot tell this node from a crashed-but-connected
    // one, which is the point of a freeze (gRPC's own deadline, in real time)
    assertThat(status.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    // the node took the caller's giving up as a cancellation and lets the next task through
    faults.heal("test");
    assertThat(blocking().compute(compute(echo(0, "next"))).getResult().getEchoed())
        .isEqualTo("next");
  }

  @Test
  void aFrozenNodeDoesNotEvenRefuseTasksBeyondItsCapacity() throws Exception {
    startWorker(1, new ScriptedRandom());
    inject("freeze");

    // An unfrozen node would refuse the second task at once with RESOURCE_EXHAUSTED: an answer,
    // which says it is alive. A frozen one says nothing at all.
    ListenableFuture<ComputeResponse> first =
        async.withDeadlineAfter(30, SECONDS).compute(compute(echo(0, "first")));
    ListenableFuture<ComputeResponse> second =
        async.withDeadlineAfter(30, SECONDS).compute(compute(echo(0, "second")));
    Awaitility.await()
        .during(HELD_FOR)
        .atMost(HELD_FOR.multipliedBy(3))
        .until(() -> !first.isDone() && !second.isDone());

    first.cancel(true);
    second.cancel(true);
  }

  @Test
  void aTaskRunningWhenTheFreezeBeginsKeepsItsSlotAndItsAnswerWaits() throws Exception {
    startWorker(2, new ScriptedRandom());
    ListenableFuture<ComputeResponse> running =
        async.withDeadlineAfter(30, SECONDS).compute(compute(echo(1_000, "finished")));
    // the echo is under way: its thread waits for its 1 s to pass on the clock
    eventually().until(() -> clock.pendingDelays().contains(SECONDS.toNanos(1)));

    inject("freeze");
    clock.advance(SECONDS.toNanos(1));

    // the echo has ended, but a frozen node sends nothing
    Awaitility.await()
        .during(HELD_FOR)
        .atMost(HELD_FOR.multipliedBy(3))
        .until(() -> !running.isDone() && worker.inFlight() == 1);
    faults.heal("test");
    assertThat(running.get(5, SECONDS).getResult().getEchoed()).isEqualTo("finished");
    eventually().until(worker::inFlight, equalTo(0));
  }

  @Test
  void stoppingTheRunningTasksAlsoEndsTheTasksAFreezeHolds() throws Exception {
    startWorker(2, new ScriptedRandom());
    inject("freeze");
    ListenableFuture<ComputeResponse> held =
        async.withDeadlineAfter(30, SECONDS).compute(compute(echo(0, "held")));
    Awaitility.await()
        .during(Duration.ofMillis(100))
        .atMost(Duration.ofSeconds(1))
        .until(() -> !held.isDone());

    // what drain does once its timeout has passed: the task ends UNAVAILABLE, and its caller can
    // send it to another node
    worker.stopAccepting();
    worker.stopRunningTasks();

    Status stopped = Status.fromThrowable(failureOf(held));
    assertThat(stopped.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(stopped.getDescription()).contains(NODE_ID, "stopped the task");
  }

  private static Throwable failureOf(ListenableFuture<?> call) throws InterruptedException {
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
