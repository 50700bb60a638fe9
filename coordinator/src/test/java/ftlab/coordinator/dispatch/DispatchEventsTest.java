package ftlab.coordinator.dispatch;

import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.BUSY;
import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.HANGING;
import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.HEALTHY;
import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.LYING;
import static ftlab.coordinator.dispatch.NodesFixture.MS;
import static org.assertj.core.api.Assertions.assertThat;

import ftlab.clock.FakeClock;
import ftlab.coordinator.picker.NodePicker;
import ftlab.coordinator.picker.ScriptedRandom;
import ftlab.proto.Answer;
import ftlab.proto.AttemptWords;
import ftlab.proto.RedundancyMode;
import ftlab.proto.SubmitRequest;
import ftlab.proto.Task;
import io.grpc.Status;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The events a request publishes for metrics and the dashboard ({@link DispatchEvent}): what each
 * mode's decisions produce, in the order decided, over real gRPC calls on one fake clock.
 */
class DispatchEventsTest {
  // the hedge settings and task of RedundancyModesTest: hedge after 40 ms, always a hedge to spend
  private static final long HEDGE_MS = RedundancyModesTest.HEDGE_MS;
  private static final Dispatcher.Settings SETTINGS = RedundancyModesTest.SETTINGS;
  private static final Task PRIMES = RedundancyModesTest.PRIMES;

  private final NodesFixture nodes = new NodesFixture();
  private final FakeClock clock = nodes.clock;
  private final List<DispatchEvent> heard = new CopyOnWriteArrayList<>();
  private int requests;

  @AfterEach
  void stop() throws InterruptedException {
    nodes.close();
  }

  private Dispatcher dispatcher() {
    Dispatcher d =
        new Dispatcher(
            "coord-test",
            nodes.cluster,
            new NodePicker(ScriptedRandom.alwaysFirst()),
            nodes.caller,
            SETTINGS,
            clock);
    d.listen(heard::add);
    return d;
  }

  private CompletableFuture<Answer> start(Dispatcher d, RedundancyMode mode, int replicas) {
    return d.submit(
        SubmitRequest.newBuilder()
            .setRequestId("req-" + ++requests)
            .setTask(PRIMES)
            .setRedundancy(ftlab.proto.Redundancy.newBuilder().setMode(mode).setReplicas(replicas))
            .build());
  }

  /** The events heard, one line each, as a learner would read them. */
  private List<String> story() {
    return heard.stream().map(DispatchEventsTest::line).toList();
  }

  private static String line(DispatchEvent e) {
    if (e instanceof DispatchEvent.AttemptStarted s) {
      return s.requestId() + " started " + s.nodeId() + " " + s.kind();
    }
    if (e instanceof DispatchEvent.AttemptEnded x) {
      return x.requestId()
          + " ended "
          + x.attempt().getNodeId()
          + " "
          + x.attempt().getKind()
          + " "
          + AttemptWords.outcome(x.attempt());
    }
    if (e instanceof DispatchEvent.Answered a) {
      return a.requestId() + " answered by " + a.answer().getNodeId() + " " + a.answer().getHow();
    }
    DispatchEvent.Failed f = (DispatchEvent.Failed) e;
    return f.requestId() + " failed " + f.status().getCode();
  }

  @Test
  void aRetryAfterABusyNodeTellsItsStoryInOrder() throws Exception {
    nodes.node("node-1", BUSY);
    nodes.node("node-2", HEALTHY);

    clock.runUntilDone(start(dispatcher(), RedundancyMode.FAILOVER, 0));

    assertThat(story())
        .containsExactly(
            "req-1 started node-1 PRIMARY",
            "req-1 ended node-1 PRIMARY RESOURCE_EXHAUSTED",
            "req-1 started node-2 RETRY",
            "req-1 ended node-2 RETRY OK",
            "req-1 answered by node-2 HOW_RETRY");
  }

  @Test
  void aHedgeThatWinsEndsTheLoserBeforeTheAnswer() throws Exception {
    nodes.node("node-1", HANGING);
    nodes.node("node-2", HEALTHY);
    CompletableFuture<Answer> answer = start(dispatcher(), RedundancyMode.HEDGED, 0);

    clock.advance(HEDGE_MS * MS);
    answer.get(5, TimeUnit.SECONDS);

    assertThat(story())
        .containsExactly(
            "req-1 started node-1 PRIMARY",
            "req-1 started node-2 HEDGE",
            "req-1 ended node-2 HEDGE OK",
            "req-1 ended node-1 PRIMARY CANCELLED",
            "req-1 answered by node-2 HOW_HEDGE");
    var hedge = (DispatchEvent.AttemptStarted) heard.get(1);
    assertThat(hedge.atNanos()).as("on the coordinator's clock").isEqualTo(HEDGE_MS * MS);
  }

  @Test
  void aVoteCarriesItsTallyAndTheOutvotedNode() throws Exception {
    nodes.node("node-1", HEALTHY);
    nodes.node("node-2", LYING);
    nodes.node("node-3", HEALTHY);

    clock.runUntilDone(start(dispatcher(), RedundancyMode.VOTE, 3));

    List<String> story = story();
    assertThat(story.subList(0, 3))
        .containsExactly(
            "req-1 started node-1 VOTE_REPLICA",
            "req-1 started node-2 VOTE_REPLICA",
            "req-1 started node-3 VOTE_REPLICA");
    assertThat(story.subList(3, 6))
        .containsExactlyInAnyOrder(
            "req-1 ended node-1 VOTE_REPLICA OK",
            "req-1 ended node-2 VOTE_REPLICA OK",
            "req-1 ended node-3 VOTE_REPLICA OK");
    assertThat(story).hasSize(7).endsWith("req-1 answered by node-1 HOW_VOTE");
    var answered = (DispatchEvent.Answered) heard.get(6);
    assertThat(answered.answer().getTallyList())
        .extracting(b -> List.copyOf(b.getNodeIdsList()))
        .containsExactly(List.of("node-1", "node-3"), List.of("node-2"));
  }

  @Test
  void aFailedRequestEndsWithItsStatusAfterEveryAttempt() throws Exception {
    nodes.node("node-1", HEALTHY);
    nodes.node("node-2", LYING);
    nodes.node("node-3", FakeWorker.Behaviour.LYING_OTHERWISE);

    CompletableFuture<Answer> answer = start(dispatcher(), RedundancyMode.VOTE, 3);
    Status status = failure(answer);

    assertThat(status.getCode()).isEqualTo(Status.Code.ABORTED);
    assertThat(story()).hasSize(7).last().isEqualTo("req-1 failed ABORTED");
    assertThat(story().subList(3, 6)).allMatch(line -> line.endsWith("VOTE_REPLICA OK"));
    var failed = (DispatchEvent.Failed) heard.get(heard.size() - 1);
    assertThat(failed.status().getCode()).isEqualTo(status.getCode());
    assertThat(failed.status().getDescription()).isEqualTo(status.getDescription());
    assertThat(failed.attempts()).hasSize(3);
    assertThat(failed.redundancy().mode()).isEqualTo(RedundancyMode.VOTE);
  }

  @Test
  void aListenerThatThrowsDisturbsNeitherTheRequestNorTheOtherListeners() throws Exception {
    nodes.node("node-1", HEALTHY);
    Dispatcher d = dispatcher(); // the recording listener
    d.listen(
        e -> {
          throw new IllegalStateException("a broken meter");
        });
    d.listen(
        e -> {
          throw new AssertionError("an Error, even");
        });
    List<DispatchEvent> last = new CopyOnWriteArrayList<>();
    d.listen(last::add);

    Answer a = clock.runUntilDone(start(d, RedundancyMode.FAILOVER, 0));

    assertThat(a.getNodeId()).isEqualTo("node-1");
    assertThat(story())
        .containsExactly(
            "req-1 started node-1 PRIMARY",
            "req-1 ended node-1 PRIMARY OK",
            "req-1 answered by node-1 HOW_PRIMARY");
    assertThat(last).hasSize(3);
  }

  @Test
  void aListenerHearsEachRequestWholeOrNotAtAll() throws Exception {
    nodes.node("node-1", HANGING);
    nodes.node("node-2", HEALTHY);
    Dispatcher d = dispatcher();
    CompletableFuture<Answer> running = start(d, RedundancyMode.HEDGED, 0);
    List<DispatchEvent> late = new CopyOnWriteArrayList<>();
    d.listen(late::add);

    clock.advance(HEDGE_MS * MS);
    running.get(5, TimeUnit.SECONDS);

    assertThat(late).as("a request already running when it subscribed").isEmpty();
    assertThat(story()).hasSize(5);
  }

  private Status failure(CompletableFuture<Answer> answer) throws Exception {
    try {
      clock.runUntilDone(answer);
      throw new AssertionError("expected the request to fail");
    } catch (io.grpc.StatusRuntimeException e) {
      return e.getStatus();
    }
  }
}
