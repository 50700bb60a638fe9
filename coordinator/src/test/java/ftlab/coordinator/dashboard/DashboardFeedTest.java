package ftlab.coordinator.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import ftlab.clock.FakeClock;
import ftlab.coordinator.dispatch.DispatchEvent;
import ftlab.coordinator.dispatch.Redundancy;
import ftlab.coordinator.membership.MembershipEvent;
import ftlab.coordinator.membership.NodeState;
import ftlab.proto.Answer;
import ftlab.proto.Attempt;
import ftlab.proto.AttemptKind;
import ftlab.proto.AttemptOutcome;
import ftlab.proto.Ballot;
import ftlab.proto.ClusterView;
import ftlab.proto.Faults;
import ftlab.proto.HowAnswered;
import ftlab.proto.NodeView;
import ftlab.proto.RedundancyMode;
import ftlab.proto.Slow;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What a dashboard page is told, batch by batch ({@link DashboardFeed#flush} called by hand). */
class DashboardFeedTest {
  /** The feed's timer: it fires only when a test moves this clock; most call flush() instead. */
  private final FakeClock clock = new FakeClock();

  /** The coordinator's view as the feed reads it; a test may change its mode. */
  private volatile ClusterView view =
      ClusterView.newBuilder()
          .setCoordinatorId("coordinator-1")
          .setRedundancy(
              ftlab.proto.Redundancy.newBuilder().setMode(RedundancyMode.FAILOVER).setReplicas(1))
          .build();

  /** The wall clock the feed stamps events with; a test may move it. */
  private volatile long wallMillis = 1_000L;

  private final DashboardFeed feed = new DashboardFeed(() -> view, () -> wallMillis, clock);

  @AfterEach
  void close() {
    feed.close();
  }

  private static JsonObject next(DashboardFeed.Page page) throws InterruptedException {
    Optional<String> m = page.next(2_000);
    assertThat(m).as("a message").isPresent();
    return JsonParser.parseString(m.get()).getAsJsonObject();
  }

  private static Answer vote(String winner, String loser) {
    return Answer.newBuilder()
        .setNodeId(winner)
        .setHow(HowAnswered.HOW_VOTE)
        .setRedundancy(
            ftlab.proto.Redundancy.newBuilder().setMode(RedundancyMode.VOTE).setReplicas(3))
        .addTally(Ballot.newBuilder().addNodeIds(winner).addNodeIds("node-5"))
        .addTally(Ballot.newBuilder().addNodeIds(loser))
        .addAttempts(
            Attempt.newBuilder()
                .setNodeId(loser)
                .setKind(AttemptKind.VOTE_REPLICA)
                .setOutcome(AttemptOutcome.ANSWERED)
                .setStartedMicros(100)
                .setLatencyMicros(5_000))
        .build();
  }

  @Test
  void aNewPageGetsThePictureThenBatchesOfWhatHappened() throws Exception {
    feed.onMembership(
        new MembershipEvent.Transition("node-1", null, NodeState.ALIVE, "first heartbeat"));
    DashboardFeed.Page page = feed.open().orElseThrow();

    JsonObject first = next(page);
    assertThat(first.get("first").getAsBoolean()).isTrue();
    assertThat(first.getAsJsonObject("view").get("coordinatorId").getAsString())
        .isEqualTo("coordinator-1");
    assertThat(first.getAsJsonArray("events").get(0).getAsJsonObject().get("text").getAsString())
        .isEqualTo("node-1 joined as ALIVE: first heartbeat");

    feed.onMembership(
        new MembershipEvent.Transition(
            "node-3", NodeState.SUSPECT, NodeState.DEAD, "no heartbeat for 612 ms"));
    feed.on(new DispatchEvent.Answered("req-7", vote("node-2", "node-4"), 12_500_000L));
    feed.on(
        new DispatchEvent.Failed(
            "req-8",
            Redundancy.FAILOVER,
            Status.UNAVAILABLE.withDescription("no node"),
            List.of(),
            3_000_000L));
    feed.flush();

    JsonObject batch = next(page);
    assertThat(batch.has("first")).isFalse();
    JsonObject dead = batch.getAsJsonArray("events").get(0).getAsJsonObject();
    assertThat(dead.get("node").getAsString()).isEqualTo("node-3");
    assertThat(dead.get("from").getAsString()).isEqualTo("SUSPECT");
    assertThat(dead.get("to").getAsString()).isEqualTo("DEAD");
    assertThat(dead.get("reason").getAsString()).isEqualTo("no heartbeat for 612 ms");
    JsonObject answered = batch.getAsJsonArray("answers").get(0).getAsJsonObject();
    assertThat(answered.get("how").getAsString()).isEqualTo("vote 2/3");
    assertThat(answered.get("outvoted").getAsBoolean()).isTrue();
    assertThat(answered.get("ms").getAsDouble()).isEqualTo(12.5);
    assertThat(
            answered.getAsJsonArray("attempts").get(0).getAsJsonObject().get("kind").getAsString())
        .isEqualTo("vote");
    JsonObject failed = batch.getAsJsonArray("answers").get(1).getAsJsonObject();
    assertThat(failed.get("ok").getAsBoolean()).isFalse();
    assertThat(failed.get("code").getAsString()).isEqualTo("UNAVAILABLE");
  }

  @Test
  void aBusySecondIsSentInBoundedBatchesAndCounted() throws Exception {
    DashboardFeed.Page page = feed.open().orElseThrow();
    next(page); // the picture
    for (int i = 0; i < 100; i++) {
      feed.on(new DispatchEvent.Answered("req-" + i, vote("node-1", "node-2"), 1_000_000L));
    }
    feed.flush();

    JsonObject batch = next(page);
    assertThat(batch.getAsJsonArray("answers")).hasSize(DashboardFeed.ANSWERS_PER_BATCH);
    assertThat(batch.get("answersNotShown").getAsLong())
        .isEqualTo(100 - DashboardFeed.ANSWERS_PER_BATCH);

    // and a page opened now sees the most recent ones
    DashboardFeed.Page late = feed.open().orElseThrow();
    JsonObject picture = next(late);
    assertThat(picture.getAsJsonArray("answers")).hasSize(DashboardFeed.RECENT_ANSWERS);
    assertThat(
            picture
                .getAsJsonArray("answers")
                .get(DashboardFeed.RECENT_ANSWERS - 1)
                .getAsJsonObject()
                .get("request")
                .getAsString())
        .isEqualTo("req-99");
  }

  @Test
  void theFeedsTimerSendsABatchEvery250Ms() throws Exception {
    DashboardFeed.Page page = feed.open().orElseThrow();
    next(page); // the picture
    feed.control("node-2", "freeze", "freeze node-2: node-2 now has: freeze");
    clock.advance(249_000_000L);
    assertThat(page.next(0)).isEmpty();
    clock.advance(1_000_000L);
    assertThat(
            next(page).getAsJsonArray("events").get(0).getAsJsonObject().get("kind").getAsString())
        .isEqualTo("control");
    clock.advance(250_000_000L);
    assertThat(next(page).getAsJsonArray("events")).isEmpty(); // and the next, with nothing new
  }

  @Test
  void aPageThatStopsReadingIsDroppedAndThePagesAreBounded() throws Exception {
    DashboardFeed.Page stuck = feed.open().orElseThrow();
    for (int i = 0; i < 70; i++) {
      feed.flush(); // 64 unread batches: the page is gone or stuck
    }
    assertThat(stuck.closed()).isTrue();

    List<DashboardFeed.Page> open = new ArrayList<>();
    for (int i = 0; i < DashboardFeed.MAX_PAGES; i++) {
      open.add(feed.open().orElseThrow());
    }
    assertThat(feed.open()).isEmpty();
    open.get(0).close();
    assertThat(feed.open()).isPresent();
  }

  @Test
  void aModeSwitchMadeAnywhereIsAnEventAtTheNextBatch() throws Exception {
    DashboardFeed.Page page = feed.open().orElseThrow();
    next(page); // the picture
    feed.flush();
    assertThat(next(page).getAsJsonArray("events")).isEmpty();

    view =
        view.toBuilder()
            .setRedundancy(
                ftlab.proto.Redundancy.newBuilder().setMode(RedundancyMode.VOTE).setReplicas(3))
            .build();
    feed.flush();

    JsonObject e = next(page).getAsJsonArray("events").get(0).getAsJsonObject();
    assertThat(e.get("kind").getAsString()).isEqualTo("mode");
    assertThat(e.get("text").getAsString()).isEqualTo("coordinator-1 mode: vote x3 (was failover)");
    feed.flush();
    assertThat(next(page).getAsJsonArray("events")).isEmpty(); // once
  }

  @Test
  void faultsAppliedAndClearedAnywhereAreEventsForTheChartsWindows() throws Exception {
    DashboardFeed.Page page = feed.open().orElseThrow();
    next(page); // the picture
    NodeView healthy = NodeView.newBuilder().setNodeId("node-2").build();
    view = view.toBuilder().addNodes(healthy).build();
    feed.flush();
    assertThat(next(page).getAsJsonArray("events")).isEmpty();

    view =
        view.toBuilder()
            .setNodes(
                0,
                healthy.toBuilder()
                    .setFaults(Faults.newBuilder().setSlow(Slow.newBuilder().setDelayMs(500))))
            .build();
    feed.flush();
    JsonObject applied = next(page).getAsJsonArray("events").get(0).getAsJsonObject();
    assertThat(applied.get("kind").getAsString()).isEqualTo("fault");
    assertThat(applied.get("node").getAsString()).isEqualTo("node-2");
    assertThat(applied.get("faults").getAsString()).isEqualTo("slow 500 ms on every task");
    feed.flush();
    assertThat(next(page).getAsJsonArray("events")).isEmpty(); // once

    view = view.toBuilder().setNodes(0, healthy).build();
    feed.flush();
    JsonObject cleared = next(page).getAsJsonArray("events").get(0).getAsJsonObject();
    assertThat(cleared.get("faults").getAsString()).isEmpty();
    assertThat(cleared.get("text").getAsString())
        .isEqualTo("node-2 reports no faults any more (it had: slow 500 ms on every task)");
  }

  @Test
  void everySecondIsChartedTheQuietOnesTooAndANewPageGetsTheLastFiveMinutes() throws Exception {
    DashboardFeed.Page page = feed.open().orElseThrow();
    next(page); // the picture
    wallMillis = 10_100;
    feed.on(new DispatchEvent.Answered("req-1", vote("node-1", "node-4"), 4_000_000L));
    feed.on(
        new DispatchEvent.Failed(
            "req-2",
            new Redundancy(RedundancyMode.FAILOVER, 1),
            Status.UNAVAILABLE.withDescription("every node failed"),
            List.of(
                Attempt.newBuilder()
                    .setNodeId("node-2")
                    .setKind(AttemptKind.PRIMARY)
                    .setOutcome(AttemptOutcome.FAILED)
                    .setFailureCode("UNAVAILABLE")
                    .build()),
            8_000_000L));
    wallMillis = 12_300; // seconds 10 and 11 are over
    feed.flush();

    JsonObject batch = next(page);
    JsonArray seconds = batch.getAsJsonArray("seconds");
    assertThat(seconds).hasSize(2);
    JsonObject busy = seconds.get(0).getAsJsonObject();
    assertThat(busy.get("t").getAsLong()).isEqualTo(10_000);
    assertThat(busy.get("answered").getAsLong()).isEqualTo(1);
    assertThat(busy.get("failed").getAsLong()).isEqualTo(1);
    assertThat(busy.get("outvoted").getAsLong()).isEqualTo(1);
    assertThat(busy.get("p50").getAsDouble()).isBetween(3.9, 4.1);
    assertThat(busy.get("p99").getAsDouble()).isBetween(7.9, 8.1);
    JsonObject quiet = seconds.get(1).getAsJsonObject();
    assertThat(quiet.get("t").getAsLong()).isEqualTo(11_000);
    assertThat(quiet.get("answered").getAsLong()).isZero();
    assertThat(quiet.has("p50")).as("no time without a request").isFalse();
    assertThat(batch.getAsJsonArray("events").toString())
        .contains("failover began: attempts failing (node-2 UNAVAILABLE x1)")
        .contains("outvoted began: votes disagree: node-4 x1 outvoted")
        .contains("failover stopped: 1 failed attempts in 1 s");

    DashboardFeed.Page later = feed.open().orElseThrow();
    assertThat(next(later).getAsJsonArray("seconds")).hasSize(2);
  }

  @Test
  void aPageOpenedBetweenASecondsCloseAndTheNextBatchGetsThatSecondOnce() throws Exception {
    Answer answer = vote("node-1", "node-4");
    wallMillis = 10_100;
    feed.on(new DispatchEvent.Answered("req-1", answer, 4_000_000L));
    wallMillis = 11_050;
    feed.on(new DispatchEvent.Answered("req-2", answer, 4_000_000L)); // closes second 10

    DashboardFeed.Page page = feed.open().orElseThrow();
    JsonArray picture = next(page).getAsJsonArray("seconds");
    assertThat(picture).hasSize(1);
    assertThat(picture.get(0).getAsJsonObject().get("t").getAsLong()).isEqualTo(10_000);

    wallMillis = 12_100; // closes second 11
    feed.flush();
    JsonArray batch = next(page).getAsJsonArray("seconds");
    assertThat(batch).hasSize(1);
    assertThat(batch.get(0).getAsJsonObject().get("t").getAsLong()).isEqualTo(11_000);
  }
}
