package ftlab.coordinator.dispatch;

import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.HANGING;
import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.HEALTHY;
import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.LYING;
import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.LYING_OTHERWISE;
import static ftlab.coordinator.dispatch.NodesFixture.MS;
import static org.assertj.core.api.Assertions.assertThat;

import ftlab.clock.FakeClock;
import ftlab.coordinator.membership.NodeState;
import ftlab.coordinator.picker.NodePicker;
import ftlab.coordinator.picker.ScriptedRandom;
import ftlab.proto.Answer;
import ftlab.proto.Attempt;
import ftlab.proto.AttemptKind;
import ftlab.proto.AttemptOutcome;
import ftlab.proto.AttemptWords;
import ftlab.proto.CountPrimes;
import ftlab.proto.RedundancyMode;
import ftlab.proto.SubmitRequest;
import ftlab.proto.Task;
import ftlab.proto.TaskResult;
import ftlab.task.Tasks;
import io.grpc.Context;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Hedged, parallel and vote modes (docs/redundancy.md) over real gRPC calls on the in-process
 * transport, with {@link FakeWorker} nodes that answer, hang or lie. Everything that takes time
 * runs on one {@link FakeClock}, so "the hedge fires at 40 ms and not before" is checked without
 * waiting; attempt timeouts are long (5 s) so that only the hedges and rounds fall due.
 */
class RedundancyModesTest {
  /** Hedge after 40 ms until the dispatcher has seen enough attempts to take their p95. */
  static final long HEDGE_MS = 40;

  /** Every request earns a whole hedge here, so that the budget never stands in the way. */
  static final HedgePolicy HEDGING =
      new HedgePolicy(95, Duration.ofMillis(2), Duration.ofMillis(HEDGE_MS), 1.0, 10, 0);

  static final Dispatcher.Settings SETTINGS =
      new Dispatcher.Settings(
          Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofMillis(1), HEDGING);

  static final Task PRIMES =
      Task.newBuilder().setCountPrimes(CountPrimes.newBuilder().setFrom(0).setTo(100)).build();

  private static final TaskResult RIGHT = Tasks.expectedResult(PRIMES);

  private final NodesFixture nodes = new NodesFixture();
  private final FakeClock clock = nodes.clock;
  private int requests;

  @AfterEach
  void stop() throws InterruptedException {
    nodes.close();
  }

  private Dispatcher dispatcher(Dispatcher.Settings settings) {
    // always the first of equally loaded nodes, in node-id order: node-1, then node-2...
    return new Dispatcher(
        "coord-test",
        nodes.cluster,
        new NodePicker(ScriptedRandom.alwaysFirst()),
        nodes.caller,
        settings,
        clock);
  }

  private static ftlab.proto.Redundancy mode(RedundancyMode mode, int replicas) {
    return ftlab.proto.Redundancy.newBuilder().setMode(mode).setReplicas(replicas).build();
  }

  /** Starts one request in the given mode; the answer (or error) completes the future. */
  private CompletableFuture<Answer> start(Dispatcher d, ftlab.proto.Redundancy redundancy) {
    SubmitRequest.Builder request =
        SubmitRequest.newBuilder().setRequestId("req-" + ++requests).setTask(PRIMES);
    if (redundancy != null) {
      request.setRedundancy(redundancy);
    }
    return d.submit(request.build());
  }

  /** Runs one request, moving the fake clock until it ends. */
  private Answer run(Dispatcher d, ftlab.proto.Redundancy redundancy) throws Exception {
    return clock.runUntilDone(start(d, redundancy));
  }

  private static Status failure(CompletableFuture<Answer> answer) throws Exception {
    try {
      answer.get(5, TimeUnit.SECONDS);
      throw new AssertionError("expected the request to fail");
    } catch (ExecutionException e) {
      return Status.fromThrowable(e.getCause());
    }
  }

  private static List<String> attempts(Answer answer) {
    return answer.getAttemptsList().stream()
        .map(a -> a.getNodeId() + " " + a.getKind() + " " + AttemptWords.outcome(a))
        .toList();
  }

  // ---- hedged ----

  @Test
  void aHedgeFiresAtTheHedgeDelayAndNotBeforeAndTheLoserIsCancelled() throws Exception {
    FakeWorker slow = nodes.node("node-1", HANGING);
    FakeWorker fast = nodes.node("node-2", HEALTHY);
    Dispatcher d = dispatcher(SETTINGS);

    CompletableFuture<Answer> answer = start(d, mode(RedundancyMode.HEDGED, 0));

    assertThat(slow.calls()).isEqualTo(1);
    // the hedge, and the primary's own timeout
    assertThat(clock.pendingDelays()).containsExactly(HEDGE_MS * MS, 5_000 * MS);
    clock.advance((HEDGE_MS - 1) * MS);
    assertThat(fast.calls()).as("no hedge 1 ms before the delay").isZero();
    assertThat(answer).isNotDone();

    clock.advance(MS);

    Answer a = answer.get(5, TimeUnit.SECONDS);
    assertThat(fast.calls()).isEqualTo(1);
    assertThat(a.getNodeId()).isEqualTo("node-2");
    assertThat(a.getResult()).isEqualTo(RIGHT);
    assertThat(attempts(a)).containsExactly("node-1 PRIMARY CANCELLED", "node-2 HEDGE OK");
    assertThat(a.getAttempts(1).getStartedMicros()).isGreaterThanOrEqualTo(0);
    assertThat(a.getRedundancy().getMode()).isEqualTo(RedundancyMode.HEDGED);
    // the slow node is told that nobody waits for its answer any more
    assertThat(slow.awaitCancelled(Duration.ofSeconds(5))).isTrue();
    // a cancelled loser is not a failure: no blame, no failed attempt counted
    assertThat(nodes.snapshot("node-1").state()).isEqualTo(NodeState.ALIVE);
    assertThat(nodes.cluster.failedAttempts("node-1")).isZero();
    assertThat(nodes.cluster.inFlight("node-1")).isZero();
  }

  @Test
  void aFastAnswerNeedsNoHedge() throws Exception {
    nodes.node("node-1", HEALTHY);
    FakeWorker other = nodes.node("node-2", HEALTHY);

    Answer a = run(dispatcher(SETTINGS), mode(RedundancyMode.HEDGED, 0));

    assertThat(attempts(a)).containsExactly("node-1 PRIMARY OK");
    assertThat(clock.pendingDelays()).as("the hedge timer is called off").isEmpty();
    clock.advance(HEDGE_MS * MS);
    assertThat(other.calls()).isZero();
  }

  @Test
  void theBudgetCapsHedges() throws Exception {
    nodes.node("node-1", HANGING); // the first request's primary
    nodes.node("node-2", HANGING); // the second's (node-1 is busy with the first)
    FakeWorker hedgeTarget = nodes.node("node-3", HEALTHY);
    // no token to start with, half a token per request: every second request may hedge
    Dispatcher d =
        dispatcher(
            SETTINGS.withHedging(
                new HedgePolicy(95, Duration.ofMillis(2), Duration.ofMillis(HEDGE_MS), 0.5, 1, 0)));
    Context.CancellableContext client = Context.current().withCancellation();

    CompletableFuture<Answer> first = client.call(() -> start(d, mode(RedundancyMode.HEDGED, 0)));
    clock.advance(HEDGE_MS * MS);
    assertThat(hedgeTarget.calls()).as("half a token is no hedge").isZero();

    CompletableFuture<Answer> second = start(d, mode(RedundancyMode.HEDGED, 0));
    clock.advance(HEDGE_MS * MS);
    assertThat(second.get(5, TimeUnit.SECONDS).getNodeId()).isEqualTo("node-3");
    assertThat(hedgeTarget.calls()).isEqualTo(1);
    assertThat(d.hedging().budget()).isZero();

    client.cancel(null); // the client gives up on the first request, stuck on the slow node
    assertThat(failure(first).getCode()).isEqualTo(Status.Code.CANCELLED);
  }

  // ---- parallel ----

  @Test
  void inParallelTheFirstGoodAnswerWinsAndTheOthersAreCancelled() throws Exception {
    FakeWorker hanging = nodes.node("node-1", HANGING);
    nodes.node("node-2", HEALTHY);
    nodes.node("node-3", HANGING);

    Answer a = run(dispatcher(SETTINGS), mode(RedundancyMode.PARALLEL, 3));

    assertThat(a.getNodeId()).isEqualTo("node-2");
    assertThat(a.getResult()).isEqualTo(RIGHT);
    assertThat(a.getAttemptsList())
        .extracting(Attempt::getKind)
        .containsOnly(AttemptKind.PARALLEL_REPLICA);
    assertThat(attempts(a))
        .containsExactly(
            "node-1 PARALLEL_REPLICA CANCELLED",
            "node-2 PARALLEL_REPLICA OK",
            "node-3 PARALLEL_REPLICA CANCELLED");
    assertThat(hanging.awaitCancelled(Duration.ofSeconds(5))).isTrue();
    for (String n : List.of("node-1", "node-2", "node-3")) {
      assertThat(nodes.cluster.inFlight(n)).as("in flight on %s", n).isZero();
    }
  }

  // ---- vote ----

  @Test
  void aTwoToOneVoteWinsAndTheDissenterIsRecorded() throws Exception {
    nodes.node("node-1", HEALTHY);
    nodes.node("node-2", LYING);
    nodes.node("node-3", HEALTHY);

    Answer a = run(dispatcher(SETTINGS), mode(RedundancyMode.VOTE, 3));

    assertThat(a.getResult()).isEqualTo(RIGHT);
    assertThat(a.getNodeId()).isEqualTo("node-1");
    assertThat(attempts(a))
        .containsExactly(
            "node-1 VOTE_REPLICA OK", "node-2 VOTE_REPLICA OK", "node-3 VOTE_REPLICA OK");
    assertThat(a.getTallyList().stream().map(b -> List.copyOf(b.getNodeIdsList())).toList())
        .containsExactly(List.of("node-1", "node-3"), List.of("node-2"));
    assertThat(a.getTally(0).getResult()).isEqualTo(RIGHT);
    assertThat(a.getAttempts(1).getResult())
        .as("each vote is in the provenance")
        .isNotEqualTo(RIGHT);
    assertThat(nodes.snapshot("node-2").outvoted()).isEqualTo(1);
    assertThat(nodes.snapshot("node-2").recentVotes()).isEqualTo(1);
    assertThat(nodes.snapshot("node-1").outvoted()).isZero();
  }

  @Test
  void aThreeWaySplitIsAnErrorNotAGuess() throws Exception {
    nodes.node("node-1", HEALTHY);
    nodes.node("node-2", LYING);
    nodes.node("node-3", LYING_OTHERWISE);

    Status s = failure(start(dispatcher(SETTINGS), mode(RedundancyMode.VOTE, 3)));

    assertThat(s.getCode()).isEqualTo(Status.Code.ABORTED);
    assertThat(s.getDescription())
        .startsWith(
            "no majority: vote x3 needs 2 equal results, got 1 vote for 25 (node-1), 1 for 26 (node-2), 1 for 27 (node-3)");
    // nobody is blamed for a vote that was not decided
    assertThat(nodes.snapshot("node-2").recentVotes()).isZero();
  }

  @Test
  void aVoteWithTooFewNodesFailsAtOnce() throws Exception {
    FakeWorker only = nodes.node("node-1", HEALTHY);

    Status s = failure(start(dispatcher(SETTINGS), mode(RedundancyMode.VOTE, 3)));

    assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(s.getDescription())
        .startsWith("vote x3 needs 2 nodes that agree, and only 1 node(s) can get work");
    assertThat(only.calls()).isZero();
  }

  @Test
  void aVoteWhoseOtherVotersAllFailEndsWithTheReasonNotAtTheDeadline() throws Exception {
    nodes.node("node-1", HEALTHY);
    nodes.refusingNode("node-2"); // killed a moment ago: beats still fresh, its port closed
    nodes.refusingNode("node-3");

    CompletableFuture<Answer> answer = start(dispatcher(SETTINGS), mode(RedundancyMode.VOTE, 3));
    nodes.advance(1_000, "node-1"); // node-2 and node-3 fall silent: SUSPECT, then DEAD

    // the fake clock stops 1 s in, far from the 10 s deadline: the request must end by itself
    assertThat(answer)
        .as("ended with the vote's reason, not left to wait for its deadline")
        .failsWithin(Duration.ofSeconds(5));
    Status s = failure(answer);
    assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(s.getDescription()).startsWith("no majority: vote x3 needs 2 equal results");
  }

  @Test
  void aFailedVoterIsReplacedByAnotherNode() throws Exception {
    nodes.refusingNode("node-1"); // beats, but its port is closed
    nodes.node("node-2", HEALTHY);
    nodes.node("node-3", HEALTHY);
    nodes.node("node-4", HEALTHY);

    Answer a = run(dispatcher(SETTINGS), mode(RedundancyMode.VOTE, 3));

    assertThat(a.getResult()).isEqualTo(RIGHT);
    // node-1 refuses at once, so its replacement (node-4) starts before node-2 and node-3 do; any
    // two of the three healthy nodes decide, and the third is cancelled
    assertThat(attempts(a))
        .contains("node-1 VOTE_REPLICA UNAVAILABLE")
        .anyMatch(x -> x.startsWith("node-4 RETRY "));
    assertThat(a.getAttemptsList())
        .filteredOn(x -> x.getOutcome() == AttemptOutcome.ANSWERED)
        .hasSize(2);
    assertThat(a.getTally(0).getNodeIdsCount()).isEqualTo(2);
  }

  @Test
  void aNodeOutvotedThreeTimesIsQuarantinedAndGetsNoMoreWork() throws Exception {
    FakeWorker liar = nodes.node("node-1", LYING);
    nodes.node("node-2", HEALTHY);
    nodes.node("node-3", HEALTHY);
    nodes.node("node-4", HEALTHY);
    Dispatcher d = dispatcher(SETTINGS);

    for (int i = 0; i < 3; i++) {
      assertThat(run(d, mode(RedundancyMode.VOTE, 3)).getResult()).isEqualTo(RIGHT);
    }

    assertThat(nodes.snapshot("node-1").state()).isEqualTo(NodeState.QUARANTINED);
    assertThat(nodes.snapshot("node-1").reason())
        .isEqualTo("outvoted 3 times in its last 3 votes (threshold 3 in 20): it may be lying");
    Answer after = run(d, mode(RedundancyMode.VOTE, 3));
    assertThat(after.getTallyList()).hasSize(1); // unanimous now
    assertThat(liar.calls()).isEqualTo(3);

    assertThat(nodes.cluster.readmit("node-1")).isEqualTo(NodeState.ALIVE);
    assertThat(nodes.snapshot("node-1").outvoted()).as("a clean record").isZero();
  }

  @Test
  void inParallelAnErrorEveryNodeWouldRepeatIsNotRetriedUntilTheDeadline() throws Exception {
    FakeWorker a = nodes.node("node-1", FakeWorker.Behaviour.BROKEN);
    FakeWorker b = nodes.node("node-2", FakeWorker.Behaviour.BROKEN);

    Status s = failure(start(dispatcher(SETTINGS), mode(RedundancyMode.PARALLEL, 2)));

    // each node asked once, then the node's own error, not 10 s of rounds
    assertThat(s.getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(s.getDescription()).endsWith("hit a bug: NullPointerException");
    assertThat(a.calls() + b.calls()).isEqualTo(2);
    assertThat(clock.pendingDelays()).as("no further round").isEmpty();
  }

  @Test
  void withNoOtherNodeThereIsNoHedgeAndTheTokenIsKept() throws Exception {
    nodes.node("node-1", HANGING);
    Dispatcher d = dispatcher(SETTINGS);
    Context.CancellableContext client = Context.current().withCancellation();

    CompletableFuture<Answer> answer = client.call(() -> start(d, mode(RedundancyMode.HEDGED, 0)));
    double before = d.hedging().budget();
    clock.advance(HEDGE_MS * MS);

    assertThat(d.hedging().budget()).isEqualTo(before);
    client.cancel(null);
    assertThat(failure(answer).getCode()).isEqualTo(Status.Code.CANCELLED);
  }

  @Test
  void aNodeThatCannotEvenBeCalledIsAFailedAttemptNotAStuckRequest() throws Exception {
    nodes.node("node-1", HEALTHY);
    nodes.node("node-2", HEALTHY);
    NodeCaller refusesNode1 =
        new NodeCaller() {
          @Override
          public com.google.common.util.concurrent.ListenableFuture<ftlab.proto.ComputeResponse>
              compute(
                  String address,
                  String nodeId,
                  ftlab.proto.ComputeRequest request,
                  long timeoutNanos) {
            if (address.endsWith("node-1:7101")) {
              throw new IllegalArgumentException("no name resolver for '" + address + "'");
            }
            return nodes.caller.compute(address, nodeId, request, timeoutNanos);
          }

          @Override
          public void reconnectNow(String address) {}

          @Override
          public void connectAfresh(String address) {}
        };
    Dispatcher d =
        new Dispatcher(
            "coord-test",
            nodes.cluster,
            new NodePicker(ScriptedRandom.alwaysFirst()),
            refusesNode1,
            SETTINGS,
            clock);

    Answer a = run(d, mode(RedundancyMode.FAILOVER, 0));

    assertThat(attempts(a)).containsExactly("node-1 PRIMARY UNAVAILABLE", "node-2 RETRY OK");
    assertThat(a.getAttempts(0).getDetail()).startsWith("could not call ");
    assertThat(nodes.cluster.inFlight("node-1")).isZero();
  }

  // ---- without voting, and choosing the mode ----

  @Test
  void withoutVotingALieReachesTheClient() throws Exception {
    nodes.node("node-1", LYING);
    nodes.node("node-2", HEALTHY);

    Answer a = run(dispatcher(SETTINGS), mode(RedundancyMode.FAILOVER, 0));

    // nothing compares answers in failover mode: only the client, which knows the right one, can
    // tell (ftlab watch prints WRONG)
    assertThat(a.getResult()).isNotEqualTo(RIGHT);
    assertThat(nodes.snapshot("node-1").state()).isEqualTo(NodeState.ALIVE);
  }

  @Test
  void theCoordinatorsModeAppliesUnlessTheRequestChoosesItsOwn() throws Exception {
    nodes.node("node-1", HEALTHY);
    nodes.node("node-2", HEALTHY);
    nodes.node("node-3", HEALTHY);
    Dispatcher d = dispatcher(SETTINGS);
    d.setRedundancy(new Redundancy(RedundancyMode.VOTE, 3));

    Answer byCoordinator = run(d, null);
    Answer byRequest = run(d, mode(RedundancyMode.FAILOVER, 0));

    assertThat(byCoordinator.getRedundancy().getMode()).isEqualTo(RedundancyMode.VOTE);
    assertThat(byCoordinator.getAttemptsCount()).isEqualTo(3);
    assertThat(byRequest.getRedundancy().getMode()).isEqualTo(RedundancyMode.FAILOVER);
    assertThat(attempts(byRequest)).containsExactly("node-1 PRIMARY OK");
  }

  @Test
  void aRequestForVoteWithoutACountGetsTheCoordinatorsReplicasEvenInFailoverMode()
      throws Exception {
    for (int i = 1; i <= 5; i++) {
      nodes.node("node-" + i, HEALTHY);
    }
    Dispatcher d = dispatcher(SETTINGS);
    d.setRedundancy(new Redundancy(RedundancyMode.FAILOVER, 5)); // FTLAB_REPLICAS=5

    Answer byCoordinator = run(d, null);
    Answer vote = run(d, mode(RedundancyMode.VOTE, 0));
    Answer voteOfThree = run(d, mode(RedundancyMode.VOTE, 3));

    assertThat(byCoordinator.getAttemptsCount()).isEqualTo(1);
    assertThat(vote.getRedundancy().getReplicas()).isEqualTo(5);
    assertThat(vote.getAttemptsCount()).isEqualTo(5);
    assertThat(voteOfThree.getAttemptsCount()).as("a count given wins").isEqualTo(3);
  }

  @Test
  void aBadRedundancyInARequestIsRejected() throws Exception {
    FakeWorker node = nodes.node("node-1", HEALTHY);

    Status s = failure(start(dispatcher(SETTINGS), mode(RedundancyMode.VOTE, 12)));

    assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(s.getDescription()).isEqualTo("replicas for vote must be between 3 and 9, got 12");
    assertThat(node.calls()).isZero();
  }
}
