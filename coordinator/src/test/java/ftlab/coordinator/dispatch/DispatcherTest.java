package ftlab.coordinator.dispatch;

import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.BROKEN;
import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.BUSY;
import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.DRAINING;
import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.HANGING;
import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.HEALTHY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ftlab.clock.FakeClock;
import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.NodeSnapshot;
import ftlab.coordinator.membership.NodeState;
import ftlab.coordinator.picker.NodePicker;
import ftlab.coordinator.picker.ScriptedRandom;
import ftlab.proto.Answer;
import ftlab.proto.Attempt;
import ftlab.proto.AttemptOutcome;
import ftlab.proto.AttemptWords;
import ftlab.proto.CountPrimes;
import ftlab.proto.Echo;
import ftlab.proto.SubmitRequest;
import ftlab.proto.Task;
import ftlab.task.Tasks;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Dispatch with failover (docs/architecture.md, "Dispatch with failover"), over real gRPC calls on
 * the in-process transport: each node is a {@link FakeWorker} that answers, hangs, is busy or
 * fails, and joins the {@link Cluster} by heartbeat exactly as a real node does.
 *
 * <p>One fake clock drives everything that takes time: the failure detector (a node goes DEAD
 * exactly when the test says), and the dispatcher's deadlines, attempt timeouts (an attempt times
 * out after {@value #ATTEMPT_MS} ms of it) and rounds. No test waits in real time: a request runs
 * while the test moves the clock ({@link FakeClock#runUntilDone}).
 */
class DispatcherTest {
  private static final long MS = 1_000_000L;
  private static final long ATTEMPT_MS = 100;

  /**
   * Attempts time out after 100 ms (plus the task's expected duration: 0 ms for the tasks here); a
   * request may take 5 s; when every node failed, the next round starts after 1 ms.
   */
  private static final Dispatcher.Settings SETTINGS =
      new Dispatcher.Settings(
          Duration.ofMillis(ATTEMPT_MS), Duration.ofSeconds(5), Duration.ofMillis(1));

  /**
   * A round backoff as long as the request timeout leaves no time for a second round: the
   * dispatcher tries each node once, then reports why none could answer.
   */
  private static final Dispatcher.Settings ONE_ROUND =
      new Dispatcher.Settings(
          Duration.ofMillis(ATTEMPT_MS), Duration.ofSeconds(5), Duration.ofSeconds(5));

  /**
   * A pause between rounds (1 s) that the fake clock never reaches in the tests that use it: only a
   * freed slot ({@link Waiters}) starts a paused request's next round.
   */
  private static final Dispatcher.Settings LONG_PAUSES =
      new Dispatcher.Settings(
          Duration.ofMillis(ATTEMPT_MS), Duration.ofSeconds(5), Duration.ofSeconds(1));

  private static final Task PRIMES =
      Task.newBuilder().setCountPrimes(CountPrimes.newBuilder().setFrom(0).setTo(100)).build();

  /** The nodes: fake workers that join the cluster by heartbeat, on a fake detector clock. */
  private final NodesFixture nodes = new NodesFixture();

  private final Cluster cluster = nodes.cluster;
  private final GrpcNodeCaller caller = nodes.caller;
  private int requests;

  @AfterEach
  void stopEverything() throws InterruptedException {
    nodes.close();
  }

  // ---- the cluster: nodes join by heartbeat, like real ones (NodesFixture) ----

  private FakeWorker node(String nodeId, FakeWorker.Behaviour... script) throws IOException {
    return nodes.node(nodeId, script);
  }

  private void refusingNode(String nodeId) {
    nodes.refusingNode(nodeId);
  }

  private void beat(String nodeId, int reportedInFlight) {
    nodes.beat(nodeId, reportedInFlight);
  }

  private void advance(long millis, String... keepBeating) {
    nodes.advance(millis, keepBeating);
  }

  /**
   * Lets the reconnect grace (2 x 100 ms after a node joins) pass with every node still beating:
   * only then is a failed call held against a node (docs/architecture.md, "The failure detector").
   */
  private void pastTheReconnectGrace(String... nodes) {
    advance(300, nodes);
  }

  private NodeSnapshot snapshot(String nodeId) {
    return nodes.snapshot(nodeId);
  }

  // ---- dispatching ----

  private Dispatcher dispatcher(Dispatcher.Settings settings) {
    // always the first of equally loaded nodes, in node-id order: node-1 is tried before node-2
    return new Dispatcher(
        "coord-test",
        cluster,
        new NodePicker(ScriptedRandom.alwaysFirst()),
        caller,
        settings,
        nodes.clock);
  }

  private Answer submit(Task task) {
    return submit(dispatcher(SETTINGS), task);
  }

  /**
   * Runs one request, moving the fake clock until it ends, then checks the bookkeeping every
   * request must leave behind: whatever happened, no attempt is still counted as in flight on any
   * node.
   */
  private Answer submit(Dispatcher dispatcher, Task task) {
    try {
      return nodes.clock.runUntilDone(
          dispatcher.submit(
              SubmitRequest.newBuilder().setRequestId("req-" + ++requests).setTask(task).build()));
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    } finally {
      for (NodeSnapshot n : cluster.nodes()) {
        assertThat(cluster.inFlight(n.nodeId()))
            .as("attempts still counted in flight on %s", n.nodeId())
            .isZero();
      }
    }
  }

  private StatusRuntimeException submitFails(Dispatcher.Settings settings, Task task) {
    return catchThrowableOfType(
        StatusRuntimeException.class, () -> submit(dispatcher(settings), task));
  }

  private static List<String> outcomes(Answer answer) {
    return answer.getAttemptsList().stream()
        .map(a -> a.getNodeId() + " " + AttemptWords.outcome(a))
        .toList();
  }

  // ---- the tests ----

  @Test
  void aHealthyNodeAnswersWithFullProvenance() throws IOException {
    FakeWorker worker = node("node-1", HEALTHY);

    Answer answer = submit(PRIMES);

    assertThat(answer.getRequestId()).isEqualTo("req-1");
    assertThat(answer.getResult()).isEqualTo(Tasks.expectedResult(PRIMES)); // 25 primes below 100
    assertThat(answer.getResult().getPrimeCount()).isEqualTo(25);
    assertThat(answer.getNodeId()).isEqualTo("node-1");
    assertThat(answer.getCoordinatorId()).isEqualTo("coord-test");
    assertThat(answer.getAttemptsList()).hasSize(1);
    Attempt only = answer.getAttempts(0);
    assertThat(only.getNodeId()).isEqualTo("node-1");
    assertThat(only.getOutcome()).isEqualTo(AttemptOutcome.ANSWERED);
    assertThat(only.getDetail()).isEmpty();
    assertThat(only.getDeadlineMs()).isEqualTo(ATTEMPT_MS); // + 0 ms expected for 100 numbers
    // the node got the client's request id (to join up logs) and the task itself
    assertThat(worker.received()).hasSize(1);
    assertThat(worker.received().get(0).getRequestId()).isEqualTo("req-1");
    assertThat(worker.received().get(0).getTask()).isEqualTo(PRIMES);
    assertThat(cluster.answers("node-1")).isEqualTo(1);
    assertThat(cluster.failedAttempts("node-1")).isZero();
  }

  @Test
  void theLoadNodesReportInHeartbeatsSteersTheChoice() throws IOException {
    FakeWorker loaded = node("node-1", HEALTHY);
    node("node-2", HEALTHY);
    beat("node-1", 3); // node-1 says it is running 3 tasks (for other coordinators, say)

    Answer answer = submit(PRIMES);

    // the picker would take node-1 on a tie; the report breaks the tie
    assertThat(outcomes(answer)).containsExactly("node-2 OK");
    assertThat(loaded.calls()).isZero();
  }

  @Test
  void theLongerTheTaskTheLongerItsAttemptDeadline() throws IOException {
    node("node-1", HEALTHY);
    // 2,000,000 numbers at a pessimistic 20,000 per ms: 100 ms expected
    Task wide =
        Task.newBuilder()
            .setCountPrimes(CountPrimes.newBuilder().setFrom(0).setTo(2_000_000))
            .build();

    Answer answer = submit(wide);

    assertThat(answer.getAttempts(0).getDeadlineMs())
        .isEqualTo(ATTEMPT_MS + Tasks.expectedMillis(wide))
        .isEqualTo(200);
  }

  @Test
  void aRefusingNodeIsFailedOverAndSuspected() throws IOException {
    refusingNode("node-1"); // beats, but its Worker port is closed
    node("node-2", HEALTHY);
    pastTheReconnectGrace("node-1", "node-2");

    Answer answer = submit(PRIMES);

    assertThat(answer.getNodeId()).isEqualTo("node-2");
    assertThat(outcomes(answer)).containsExactly("node-1 UNAVAILABLE", "node-2 OK");
    assertThat(answer.getAttempts(0).getDetail()).contains("Could not find server");
    assertThat(answer.getAttempts(0).getMayHaveRun()).as("refused: a definite failure").isFalse();
    // the failed call is evidence: SUSPECT at once, without waiting 300 ms for missed heartbeats
    assertThat(snapshot("node-1").state()).isEqualTo(NodeState.SUSPECT);
    assertThat(snapshot("node-1").reason()).startsWith("a call to it failed: UNAVAILABLE");
    assertThat(snapshot("node-2").state()).isEqualTo(NodeState.ALIVE);
    assertThat(cluster.failedAttempts("node-1")).isEqualTo(1);
  }

  @Test
  void aNodeThatCrashedAfterAnsweringIsFailedOver() throws Exception {
    FakeWorker first = node("node-1", HEALTHY);
    node("node-2", HEALTHY);
    pastTheReconnectGrace("node-1", "node-2");
    assertThat(submit(PRIMES).getNodeId()).isEqualTo("node-1");

    first.crash(); // kill -9: its heartbeats stop too, but the detector has not noticed yet
    Answer answer = submit(PRIMES);

    assertThat(outcomes(answer)).containsExactly("node-1 UNAVAILABLE", "node-2 OK");
    assertThat(snapshot("node-1").state()).isEqualTo(NodeState.SUSPECT);
  }

  @Test
  void aHangingNodeHitsTheAttemptDeadlineAndTheRequestGoesElsewhere() throws Exception {
    FakeWorker frozen = node("node-1", HANGING);
    node("node-2", HEALTHY);
    pastTheReconnectGrace("node-1", "node-2");

    Answer answer = submit(PRIMES);

    assertThat(answer.getNodeId()).isEqualTo("node-2");
    assertThat(outcomes(answer)).containsExactly("node-1 DEADLINE_EXCEEDED", "node-2 OK");
    Attempt timedOut = answer.getAttempts(0);
    assertThat(timedOut.getDetail()).isEqualTo("no answer within 100 ms");
    assertThat(timedOut.getMayHaveRun())
        .as("a timed-out attempt is an indefinite failure")
        .isTrue();
    assertThat(timedOut.getLatencyMicros()).isGreaterThanOrEqualTo(ATTEMPT_MS * 1_000);
    assertThat(snapshot("node-1").state()).isEqualTo(NodeState.SUSPECT);
    assertThat(snapshot("node-1").reason())
        .isEqualTo("a call to it failed: DEADLINE_EXCEEDED (no answer within 100 ms)");
    // the frozen node is told that nobody waits for its answer any more
    assertThat(frozen.awaitCancelled(Duration.ofSeconds(5))).isTrue();
  }

  @Test
  void aDrainingNodesRefusalIsFailedOverButIsNoEvidence() throws IOException {
    node("node-1", DRAINING);
    node("node-2", HEALTHY);
    pastTheReconnectGrace("node-1", "node-2");

    Answer answer = submit(PRIMES);

    assertThat(outcomes(answer)).containsExactly("node-1 UNAVAILABLE", "node-2 OK");
    // the node answered (it is shutting down on purpose): it is up, so not SUSPECT; its goodbye
    // will make it LEFT
    assertThat(snapshot("node-1").state()).isEqualTo(NodeState.ALIVE);
  }

  @Test
  void anAnswerFromAnotherNodeThanTheOneCalledIsNotTakenAndTheConnectionIsMadeAgain()
      throws IOException {
    // node-1's name led to node-3's container when the connection was opened (containers that
    // restarted together swapped addresses)
    nodes.misdirectedNode("node-1", "node-3", HEALTHY);
    node("node-2", HEALTHY);
    pastTheReconnectGrace("node-1", "node-2");

    Answer answer = submit(PRIMES);

    assertThat(answer.getNodeId()).isEqualTo("node-2");
    assertThat(outcomes(answer)).containsExactly("node-1 UNAVAILABLE", "node-2 OK");
    assertThat(answer.getAttempts(0).getDetail())
        .isEqualTo(
            nodes.address("node-1")
                + " was answered by node-3, not node-1: the name leads elsewhere now;"
                + " connecting again");
    assertThat(answer.getAttempts(0).getMayHaveRun()).as("it did not run on node-1").isFalse();
    // our way to node-1 is wrong, not node-1: its heartbeats say it is alive
    assertThat(snapshot("node-1").state()).isEqualTo(NodeState.ALIVE);
    assertThat(cluster.answers("node-1")).isZero();

    // the next call to node-1 opens a new connection, which looks the name up again
    assertThat(nodes.channelsOpened.get(nodes.address("node-1"))).isEqualTo(1);
    submit(PRIMES);
    assertThat(nodes.channelsOpened.get(nodes.address("node-1"))).isEqualTo(2);
  }

  @Test
  void requestsAreCountedWhileTheyRunWhateverTheirEnd() throws Exception {
    node("node-1", HANGING, HEALTHY);
    Dispatcher d = dispatcher(SETTINGS);

    var answer = d.submit(SubmitRequest.newBuilder().setRequestId("req-a").setTask(PRIMES).build());
    assertThat(d.requestsRunning()).as("waiting for the hanging node").isEqualTo(1);
    nodes.clock.runUntilDone(answer);
    assertThat(d.requestsRunning()).isZero();

    // refused before it ran (a bad task), and failed (no node could answer): counted out too
    Task bad =
        Task.newBuilder().setCountPrimes(CountPrimes.newBuilder().setFrom(10).setTo(5)).build();
    assertThat(d.submit(SubmitRequest.newBuilder().setTask(bad).build()))
        .isCompletedExceptionally();
    nodes.cluster.leave("node-1", 1, "test");
    var failed = d.submit(SubmitRequest.newBuilder().setTask(PRIMES).build());
    assertThat(failed).isCompletedExceptionally();
    assertThat(d.requestsRunning()).isZero();
  }

  @Test
  void beyondItsAdmissionLimitACoordinatorRefusesAtOnceAndTakesOnAgainOnceRequestsEnd()
      throws Exception {
    // one node of capacity 4 whose first four calls hang: four requests wait on it
    node("node-1", HANGING, HANGING, HANGING, HANGING, HEALTHY);
    Dispatcher d = dispatcher(SETTINGS.withAdmission(new AdmissionLimit(1, 1))); // limit 4
    List<java.util.concurrent.CompletableFuture<Answer>> waiting = new java.util.ArrayList<>();
    for (int i = 0; i < 4; i++) {
      waiting.add(
          d.submit(SubmitRequest.newBuilder().setRequestId("w" + i).setTask(PRIMES).build()));
    }
    assertThat(d.requestsRunning()).isEqualTo(4);

    // the fifth is refused before the clock moves: no queue, no attempt on the node
    var fifth = d.submit(SubmitRequest.newBuilder().setRequestId("r5").setTask(PRIMES).build());
    assertThat(fifth).isCompletedExceptionally();
    Status refused = Status.fromThrowable(catchThrowableOfType(Exception.class, fifth::join));
    assertThat(refused.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(refused.getDescription())
        .isEqualTo(
            "coord-test is full: 4 requests in progress, the most it takes on (1 x the 4 task"
                + " slots of its 1 node that may get work); refused at once rather than queued:"
                + " try another coordinator or again in a moment");
    assertThat(d.requestsShed()).isEqualTo(1);
    assertThat(d.requestsRunning()).isEqualTo(4);

    // the four end (their attempts time out, the node answers their retries): room again
    for (var w : waiting) {
      nodes.clock.runUntilDone(w);
    }
    assertThat(d.requestsRunning()).isZero();
    Answer later = submit(d, PRIMES);
    assertThat(later.getNodeId()).isEqualTo("node-1");
    assertThat(d.requestsShed()).isEqualTo(1);
  }

  @Test
  void aBusyNodeIsSkippedButNotSuspected() throws IOException {
    node("node-1", BUSY);
    node("node-2", HEALTHY);

    Answer answer = submit(PRIMES);

    assertThat(outcomes(answer)).containsExactly("node-1 RESOURCE_EXHAUSTED", "node-2 OK");
    assertThat(answer.getAttempts(0).getDetail())
        .isEqualTo("node-1 is at capacity: 4 of 4 tasks running");
    // at capacity is busy, not failing: the detector is not told
    assertThat(snapshot("node-1").state()).isEqualTo(NodeState.ALIVE);
  }

  @Test
  void whenEveryNodeIsBusyTheNextRoundTriesThemAgain() throws IOException {
    node("node-1", BUSY, HEALTHY); // busy for the first call only
    node("node-2", BUSY);

    Answer answer = submit(PRIMES);

    assertThat(outcomes(answer))
        .containsExactly("node-1 RESOURCE_EXHAUSTED", "node-2 RESOURCE_EXHAUSTED", "node-1 OK");
    assertThat(answer.getNodeId()).isEqualTo("node-1");
  }

  @Test
  void aRequestIsCountedOutBeforeItsCallIsClosed() throws Exception {
    // a client with as many requests in flight as the limit sends the next one the moment it has
    // an answer (a unary call's, when the call closes): by then the answered request must no
    // longer count against the limit
    node("node-1", HEALTHY);
    Dispatcher d = dispatcher(SETTINGS.withAdmission(new AdmissionLimit(1, 1)));
    var runningWhenAnswered = new java.util.concurrent.CompletableFuture<Integer>();
    d.dispatch(
        SubmitRequest.newBuilder().setRequestId("r").setTask(PRIMES).build(),
        new io.grpc.stub.StreamObserver<>() {
          @Override
          public void onNext(Answer a) {}

          @Override
          public void onError(Throwable t) {
            runningWhenAnswered.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            runningWhenAnswered.complete(d.requestsRunning());
          }
        });
    assertThat(nodes.clock.runUntilDone(runningWhenAnswered)).isZero();
  }

  @Test
  void aFreedSlotGoesToTheOldestWaitingRequestAtOnceNotAtTheEndOfItsPause() throws Exception {
    // one node, full for the first calls of a and b: both pause for a second of the fake clock,
    // which never moves here; only c's answer, which frees the node's slot, can wake them
    FakeWorker worker = node("node-1", BUSY, BUSY, HEALTHY);
    Dispatcher d = dispatcher(LONG_PAUSES);
    var a = d.submit(SubmitRequest.newBuilder().setRequestId("a").setTask(PRIMES).build());
    awaitWaiting(d, 1);
    var b = d.submit(SubmitRequest.newBuilder().setRequestId("b").setTask(PRIMES).build());
    awaitWaiting(d, 2);
    long before = nodes.clock.nanoTime();

    var c = d.submit(SubmitRequest.newBuilder().setRequestId("c").setTask(PRIMES).build());

    // c's answer wakes a (the oldest), a's answer wakes b: all three answered in real time
    for (var f : List.of(c, a, b)) {
      assertThat(f.get(5, TimeUnit.SECONDS).getNodeId()).isEqualTo("node-1");
    }
    assertThat(nodes.clock.nanoTime()).as("no pause ran out").isEqualTo(before);
    assertThat(worker.received().stream().map(r -> r.getRequestId()))
        .containsExactly("a", "b", "c", "a", "b");
    assertThat(outcomes(a.join())).containsExactly("node-1 RESOURCE_EXHAUSTED", "node-1 OK");
    assertThat(d.requestsWaiting()).isZero();
    // their pauses' timers, when the clock gets there, find the pauses over: nothing runs twice
    nodes.clock.advance(TimeUnit.SECONDS.toNanos(2));
    assertThat(worker.calls()).isEqualTo(5);
  }

  /**
   * Four requests whose calls hang on node-1 (capacity 4): this coordinator's count says the node
   * is full; the node's heartbeat then reports {@code reported} tasks.
   */
  private List<java.util.concurrent.CompletableFuture<Answer>> fillNode1(
      Dispatcher d, FakeWorker worker, int reported) {
    var hung = hangFourOnNode1(d, worker);
    beat("node-1", reported);
    return hung;
  }

  /** Four requests whose calls hang on node-1: this coordinator counts it full. */
  private List<java.util.concurrent.CompletableFuture<Answer>> hangFourOnNode1(
      Dispatcher d, FakeWorker worker) {
    List<java.util.concurrent.CompletableFuture<Answer>> hung = new java.util.ArrayList<>();
    for (int i = 0; i < 4; i++) {
      hung.add(d.submit(SubmitRequest.newBuilder().setRequestId("w" + i).setTask(PRIMES).build()));
    }
    org.awaitility.Awaitility.await("four attempts in flight on node-1")
        .atMost(java.time.Duration.ofSeconds(5))
        .pollInterval(java.time.Duration.ofMillis(5))
        .until(() -> cluster.inFlight("node-1") == 4 && worker.calls() == 4);
    return hung;
  }

  @Test
  void aRequestWaitsInLineForASlotRatherThanAskANodeThatIsFull() throws Exception {
    FakeWorker worker = node("node-1", HANGING, HANGING, HANGING, HANGING, HEALTHY);
    Dispatcher d = dispatcher(LONG_PAUSES);
    var hung = fillNode1(d, worker, 4);

    // full by both counts: the fifth request does not ask node-1 (it would only refuse), it waits
    var fifth = d.submit(SubmitRequest.newBuilder().setRequestId("e").setTask(PRIMES).build());
    awaitWaiting(d, 1);
    assertThat(worker.calls()).isEqualTo(4);

    // the hanging attempts time out: each frees a slot, and a waiting request gets it
    nodes.clock.advance(ATTEMPT_MS * MS);
    assertThat(outcomes(nodes.clock.runUntilDone(fifth)))
        .as("asked once, when a slot was free: never refused")
        .containsExactly("node-1 OK");
    for (var w : hung) {
      assertThat(nodes.clock.runUntilDone(w).getNodeId()).isEqualTo("node-1");
    }
    assertThat(cluster.inFlight("node-1")).isZero();
    assertThat(d.requestsWaiting()).isZero();
  }

  @Test
  void aHeartbeatFromBeforeOurAttemptsCannotSayTheNodeHasRoom() throws Exception {
    // node-1 said "0 tasks" a millisecond before this coordinator's four attempts started: it did
    // not know of them; the coordinator's own count says full, and the fifth request waits
    FakeWorker worker = node("node-1", HANGING, HANGING, HANGING, HANGING, HEALTHY);
    nodes.clock.advance(MS);
    Dispatcher d = dispatcher(LONG_PAUSES);
    var hung = hangFourOnNode1(d, worker);

    var fifth = d.submit(SubmitRequest.newBuilder().setRequestId("e").setTask(PRIMES).build());
    awaitWaiting(d, 1);
    assertThat(worker.calls()).isEqualTo(4);

    nodes.clock.advance(ATTEMPT_MS * MS);
    assertThat(outcomes(nodes.clock.runUntilDone(fifth))).containsExactly("node-1 OK");
    for (var w : hung) {
      nodes.clock.runUntilDone(w);
    }
  }

  @Test
  void aNodeWhoseHeartbeatSaysItHasRoomIsAskedWhateverThisCoordinatorCounts() throws Exception {
    // this coordinator counts four attempts on node-1, but the node said it runs one, after they
    // started: an attempt ended there (its answer on the way), or our count is too high (an end
    // never counted, which would otherwise shut the node out for good): the node is asked
    FakeWorker worker = node("node-1", HANGING, HANGING, HANGING, HANGING, HEALTHY);
    Dispatcher d = dispatcher(SETTINGS);
    var hung = fillNode1(d, worker, 1);

    var fifth = d.submit(SubmitRequest.newBuilder().setRequestId("e").setTask(PRIMES).build());

    assertThat(fifth.get(5, TimeUnit.SECONDS).getNodeId()).isEqualTo("node-1");
    assertThat(worker.calls()).isEqualTo(5);
    nodes.clock.advance(ATTEMPT_MS * MS);
    for (var w : hung) {
      nodes.clock.runUntilDone(w);
    }
  }

  @Test
  void aRequestThatNeverFoundRoomSaysSoWhenItFails() throws Exception {
    // the hanging attempts outlast the request: it waits for a slot until it runs out of time
    FakeWorker worker = node("node-1", HANGING, HANGING, HANGING, HANGING, HEALTHY);
    Dispatcher d =
        dispatcher(
            new Dispatcher.Settings(
                Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofMillis(100)));
    var hung = fillNode1(d, worker, 4);

    var fifth = d.submit(SubmitRequest.newBuilder().setRequestId("e").setTask(PRIMES).build());
    Status failed =
        Status.fromThrowable(
            catchThrowableOfType(Exception.class, () -> nodes.clock.runUntilDone(fifth)));

    assertThat(failed.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    // as when every node refused it: UNAVAILABLE, each node and why (the client tries elsewhere)
    assertThat(failed.getDescription())
        .isEqualTo(
            "no node could answer: node-1 is full: its 4 task slots hold this coordinator's"
                + " attempts (not asked)");
    for (var w : hung) {
      catchThrowableOfType(Exception.class, () -> nodes.clock.runUntilDone(w));
    }
  }

  /** Waits (in real time: the in-process calls run on gRPC's threads) for paused requests. */
  private static void awaitWaiting(Dispatcher d, int n) {
    org.awaitility.Awaitility.await("requests paused for a slot")
        .atMost(java.time.Duration.ofSeconds(5))
        .pollInterval(java.time.Duration.ofMillis(5))
        .until(() -> d.requestsWaiting() == n);
  }

  @Test
  void aNonRetryableErrorGoesBackToTheCallerWithoutTryingOthers() throws IOException {
    node("node-1", BROKEN);
    FakeWorker other = node("node-2", HEALTHY);

    StatusRuntimeException e = submitFails(SETTINGS, PRIMES);

    // INTERNAL would fail the same way on every node: the client gets it as it is
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(e.getStatus().getDescription())
        .isEqualTo("node-1 failed the task: node-1 hit a bug: NullPointerException");
    assertThat(other.calls()).isZero();
    // a node that answers, even with an error, is up: not suspected
    assertThat(snapshot("node-1").state()).isEqualTo(NodeState.ALIVE);
  }

  @Test
  void deadAndLeftNodesNeverGetACall() throws IOException {
    // node-1 and node-2 come first in id order, and ScriptedRandom.alwaysFirst() would pick them
    FakeWorker dead = node("node-1", HEALTHY);
    FakeWorker left = node("node-2", HEALTHY);
    FakeWorker alive = node("node-3", HEALTHY);
    cluster.leave("node-2", 1, "SIGTERM, draining");
    advance(700, "node-3"); // node-1 stops beating: SUSPECT after 300 ms, DEAD after 600 ms
    assertThat(snapshot("node-1").state()).isEqualTo(NodeState.DEAD);
    assertThat(snapshot("node-2").state()).isEqualTo(NodeState.LEFT);
    assertThat(snapshot("node-3").state()).isEqualTo(NodeState.ALIVE);

    Answer answer = submit(PRIMES);

    assertThat(outcomes(answer)).containsExactly("node-3 OK");
    assertThat(dead.calls()).isZero();
    assertThat(left.calls()).isZero();
    assertThat(alive.calls()).isEqualTo(1);
  }

  @Test
  void withOnlyDeadAndLeftNodesTheErrorSaysWhyEachIsOut() throws IOException {
    FakeWorker dead = node("node-1", HEALTHY);
    FakeWorker left = node("node-2", HEALTHY);
    cluster.leave("node-2", 1, "SIGTERM, draining");
    advance(700);

    StatusRuntimeException e = submitFails(SETTINGS, PRIMES);

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.getStatus().getDescription())
        .isEqualTo(
            "no node could answer: node-1 is DEAD (no heartbeat for 700 ms (threshold 6 x 100 ms));"
                + " node-2 is LEFT (said goodbye: SIGTERM, draining)");
    assertThat(dead.calls() + left.calls()).isZero();
  }

  @Test
  void whenEveryNodeFailsTheErrorNamesEachNodeAndWhy() throws IOException {
    refusingNode("node-1");
    node("node-2", HANGING);
    node("node-3", BUSY);
    pastTheReconnectGrace("node-1", "node-2", "node-3");

    StatusRuntimeException e = submitFails(ONE_ROUND, PRIMES);

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.getStatus().getDescription())
        .startsWith("no node could answer: node-1 failed: UNAVAILABLE (Could not find server")
        .contains("; node-2 failed: DEADLINE_EXCEEDED (no answer within 100 ms)")
        .endsWith(
            "; node-3 failed: RESOURCE_EXHAUSTED (node-3 is at capacity: 4 of 4 tasks running)");
    assertThat(snapshot("node-1").state()).isEqualTo(NodeState.SUSPECT);
    assertThat(snapshot("node-2").state()).isEqualTo(NodeState.SUSPECT);
    assertThat(snapshot("node-3").state()).isEqualTo(NodeState.ALIVE);
  }

  @Test
  void withNoKnownNodeTheErrorExplainsHowNodesJoin() {
    StatusRuntimeException e = submitFails(SETTINGS, PRIMES);

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.getStatus().getDescription())
        .startsWith("no node could answer: this coordinator has not heard from any node yet")
        .contains("nodes join by sending heartbeats");
  }

  @Test
  void anInvalidTaskIsRejectedWithoutCallingAnyNode() throws IOException {
    FakeWorker worker = node("node-1", HEALTHY);
    Task backwards =
        Task.newBuilder().setCountPrimes(CountPrimes.newBuilder().setFrom(10).setTo(5)).build();
    Task tooLong =
        Task.newBuilder().setEcho(Echo.newBuilder().setDelayMs(60_000).setValue("hi")).build();

    StatusRuntimeException e = submitFails(SETTINGS, backwards);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription())
        .isEqualTo("count_primes.to must be greater than from, got from=10 to=5");

    assertThat(submitFails(SETTINGS, tooLong).getStatus().getDescription())
        .isEqualTo("echo.delay_ms must be between 0 and 10000, got 60000");
    assertThat(submitFails(SETTINGS, Task.getDefaultInstance()).getStatus().getDescription())
        .isEqualTo("task must set one of count_primes or echo");
    assertThat(worker.calls()).isZero();
  }

  @Test
  void theRequestDeadlineEndsTheRequestEvenIfNodesStillHang() throws Exception {
    node("node-1", HANGING);
    node("node-2", HANGING);
    // the request's deadline: 250 ms, less than the 2 x 100 ms + retries the hanging nodes need
    Dispatcher.Settings deadline250ms =
        new Dispatcher.Settings(
            Duration.ofMillis(ATTEMPT_MS), Duration.ofMillis(250), Duration.ofMillis(1));
    long start = nodes.clock.nanoTime();

    StatusRuntimeException e = submitFails(deadline250ms, PRIMES);
    long tookMillis = (nodes.clock.nanoTime() - start) / MS;

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(e.getStatus().getDescription())
        .startsWith("the request's deadline passed; ")
        .contains("attempts: node-1 DEADLINE_EXCEEDED");
    assertThat(tookMillis).isBetween(250L, 1_000L); // not a moment before, and not much after
  }

  @Test
  void aClientDeadlineOfAnHourIsCappedAtTheCoordinatorsLimit() throws Exception {
    // it hangs on every task, but beats: it stays a node worth trying again, round after round
    node("node-1", HANGING).onCall(() -> nodes.beat("node-1"));
    // attempts of 30 s: the second is still waiting on node-1 when the 60 s cap passes
    Dispatcher.Settings slowRounds =
        new Dispatcher.Settings(
            Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(1));
    ScheduledExecutorService never = Executors.newSingleThreadScheduledExecutor();
    try {
      // on the system's ticker, as a real client's deadline is (the calls to nodes inherit it)
      Context.CancellableContext client =
          Context.current().withDeadline(Deadline.after(1, TimeUnit.HOURS), never);
      long start = nodes.clock.nanoTime();

      StatusRuntimeException e =
          catchThrowableOfType(
              StatusRuntimeException.class,
              () ->
                  client.call(
                      // a limit longer than the cap: the request must end by itself at 60 s
                      () ->
                          nodes.clock.runUntilDone(
                              dispatcher(slowRounds)
                                  .submit(
                                      SubmitRequest.newBuilder()
                                          .setRequestId("req-cap")
                                          .setTask(PRIMES)
                                          .build()),
                              Duration.ofSeconds(90))));
      long tookSeconds = (nodes.clock.nanoTime() - start) / (1_000 * MS);

      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
      assertThat(e.getStatus().getDescription())
          .startsWith(
              "the coordinator's limit of 60 s per request passed (the client allowed 3600 s); ");
      assertThat(tookSeconds).isEqualTo(60L);
    } finally {
      never.shutdownNow();
    }
  }

  @Test
  void aClientThatGivesUpGetsCancelledNotDeadlineExceeded() throws Exception {
    FakeWorker frozen = node("node-1", HANGING);
    node("node-2", HEALTHY);
    Context.CancellableContext client = Context.current().withCancellation();
    // the client gives up exactly while its request waits on the frozen node
    frozen.onCall(() -> client.cancel(null));

    StatusRuntimeException e =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () -> client.run(() -> submit(dispatcher(SETTINGS), PRIMES)));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.CANCELLED);
    assertThat(e.getStatus().getDescription())
        .isEqualTo("the client cancelled the request after 1 attempt(s)");
    // nobody waits for an answer any more: no failover, and no blame on node-1
    assertThat(snapshot("node-1").state()).isEqualTo(NodeState.ALIVE);
  }
}
