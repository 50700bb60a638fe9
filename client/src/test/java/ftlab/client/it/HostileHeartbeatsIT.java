package ftlab.client.it;

import static ftlab.proto.NodeState.ALIVE;
import static ftlab.proto.NodeState.DEAD;
import static ftlab.proto.NodeState.LEFT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import ftlab.proto.ClusterView;
import ftlab.proto.HeartbeatReply;
import ftlab.proto.HeartbeatRequest;
import ftlab.proto.LeaveRequest;
import ftlab.proto.Load;
import ftlab.proto.MembershipGrpc;
import ftlab.proto.NodeView;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 10's attacks that did lasting harm in plaintext, played against real processes by a client
 * with no credentials (what any process that reaches a coordinator's port can do), under a checked
 * load: one forged heartbeat of a newer incarnation, an incarnation from the future, a forged
 * goodbye, and a flood of made-up node ids. None may take a real node out for more than a moment,
 * and the table must stay bounded. (Refusing them outright needs identities: with mutual TLS on,
 * MutualTlsIT.)
 */
class HostileHeartbeatsIT {
  /** Where the forged beats say the node is: nothing listens there. */
  private static final String NOWHERE = "127.0.0.1:1";

  private static HeartbeatRequest beat(String node, String address, long incarnation, long seq) {
    return heartbeat(node, address, incarnation, seq).build();
  }

  /**
   * A heartbeat as a node with capacity 4, beating every 100 ms, sends it; also HostileInputIT's.
   */
  static HeartbeatRequest.Builder heartbeat(
      String node, String address, long incarnation, long seq) {
    return HeartbeatRequest.newBuilder()
        .setNodeId(node)
        .setAddress(address)
        .setIncarnation(incarnation)
        .setSequence(seq)
        .setIntervalMs(100)
        .setLoad(Load.newBuilder().setCapacity(4));
  }

  private static NodeView node(ClusterView view, String id) {
    return view.getNodesList().stream()
        .filter(n -> n.getNodeId().equals(id))
        .findFirst()
        .orElseThrow(() -> new AssertionError(id + " not in " + view.getCoordinatorId()));
  }

  /** Waits until coordinator-1 heard the node less than 150 ms ago. */
  private static void awaitHeardRecently(ClusterProbe p, String nodeId) {
    await(nodeId + " heard within 150 ms at coordinator-1")
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(10))
        .until(() -> node(p.coordinators().view(0, 2_000), nodeId).getLastHeartbeatAgeMs() < 150);
  }

  /**
   * Sends a forged beat to coordinator-1 and returns its refusal; if it was taken, fails with what
   * coordinator-1 says of node-1 now (a beat is taken over a holder silent for 300 ms: the node,
   * not the coordinator, was then starved of CPU).
   */
  private static Status refusal(
      ClusterProbe p, MembershipGrpc.MembershipBlockingStub forger, HeartbeatRequest forged) {
    Throwable t =
        catchThrowable(() -> forger.withDeadlineAfter(2, TimeUnit.SECONDS).heartbeat(forged));
    assertThat(t)
        .as(
            () ->
                "the forged beat "
                    + forged.getIncarnation()
                    + " at "
                    + forged.getAddress()
                    + " was taken; coordinator-1 now has "
                    + node(p.coordinators().view(0, 2_000), "node-1"))
        .isInstanceOf(StatusRuntimeException.class);
    return ((StatusRuntimeException) t).getStatus();
  }

  @Test
  void forgedBeatsDoNoLastingHarm() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3)) {
      ClusterProbe p = c.probe;
      MembershipGrpc.MembershipBlockingStub forger =
          MembershipGrpc.newBlockingStub(p.coordinators().channel(0));
      p.startLoad();
      p.awaitMoreAnswers(40);
      ClusterView before = p.coordinators().view(0, 2_000);
      NodeView real = node(before, "node-1");
      long fault = System.nanoTime();

      // 1. beats that look like node-1 restarted elsewhere, with two different incarnations:
      // node-1 beats, so the id is its own, and both are refused
      int conflicts = 0;
      for (long forged : new long[] {real.getIncarnation() + 1, real.getIncarnation() + 2}) {
        // node-1 was heard a moment ago: it beats (a node silent for 300 ms may be taken over,
        // as a restart would; that is not what this step is about)
        awaitHeardRecently(p, "node-1");
        Status refused = refusal(p, forger, beat("node-1", NOWHERE, forged, 1));
        assertThat(refused.getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
        // "that still beats (incarnation ..., heard 40 ms ago)", or, if coordinator-1 was itself
        // stalled a moment ago, "(incarnation ...) and this coordinator cannot tell yet whether it
        // still beats": either way the id stays with the process that holds it
        assertThat(refused.getDescription())
            .startsWith(
                "coordinator-1 refused the heartbeat of node-1: the id node-1 is held by another"
                    + " process ")
            .contains("(incarnation " + real.getIncarnation() + " at " + real.getAddress());
        if (refused.getDescription().contains(" that still beats ")) {
          conflicts++; // a refusal while coordinator-1 settles after a stall is not one
        }
      }
      ClusterView afterForgery = p.coordinators().view(0, 2_000);
      assertThat(node(afterForgery, "node-1").getAddress()).isEqualTo(real.getAddress());
      assertThat(node(afterForgery, "node-1").getIncarnation()).isEqualTo(real.getIncarnation());
      assertThat(afterForgery.getIdConflicts()).isEqualTo(conflicts);

      // a forged beat that coordinator-1 reads right after a stall of its own (SIGSTOP): node-1's
      // beats are unread then, so node-1's silence says nothing, and the forgery is refused
      // with a sentence that says so (before, it was taken, or answered OK and ignored)
      ListenableFuture<HeartbeatReply> late;
      c.cluster.signal("coordinator-1", "STOP");
      try {
        Thread.sleep(600); // the stall: twice the suspect threshold
        late =
            MembershipGrpc.newFutureStub(p.coordinators().channel(0))
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .heartbeat(beat("node-1", NOWHERE, real.getIncarnation() + 3, 1));
      } finally {
        c.cluster.signal("coordinator-1", "CONT");
      }
      ExecutionException stalled = catchThrowableOfType(late::get, ExecutionException.class);
      assertThat(stalled).as("the beat read after the stall was taken").isNotNull();
      Status afterStall = Status.fromThrowable(stalled.getCause());
      assertThat(afterStall.getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
      assertThat(afterStall.getDescription())
          .startsWith(
              "coordinator-1 refused the heartbeat of node-1: the id node-1 is held by another"
                  + " process (incarnation "
                  + real.getIncarnation()
                  + " at "
                  + real.getAddress()
                  + ") and this coordinator cannot tell yet whether it still beats: ");
      assertThat(node(p.coordinators().view(0, 2_000), "node-1").getAddress())
          .isEqualTo(real.getAddress());

      // the same incarnation (ftlab status shows it) from another address: refused too; and from
      // node-1's own address with a sequence far ahead, which would make every real beat after it
      // look old: not believed
      awaitHeardRecently(p, "node-1");
      assertThat(
              refusal(p, forger, beat("node-1", NOWHERE, real.getIncarnation(), Long.MAX_VALUE))
                  .getCode())
          .isEqualTo(Status.Code.ALREADY_EXISTS);
      assertThatThrownBy(
              () ->
                  forger
                      .withDeadlineAfter(2, TimeUnit.SECONDS)
                      .heartbeat(
                          beat("node-1", real.getAddress(), real.getIncarnation(), Long.MAX_VALUE)))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                assertThat(e.getStatus().getDescription())
                    .contains("its sequence number 9223372036854775807 is far ahead")
                    .endsWith("not believed");
              });

      // 2. an incarnation an hour ahead of the coordinator's clock is not believed
      assertThatThrownBy(
              () ->
                  forger
                      .withDeadlineAfter(2, TimeUnit.SECONDS)
                      .heartbeat(
                          beat("node-3", NOWHERE, System.currentTimeMillis() + 3_600_000, 1)))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                assertThat(e.getStatus().getDescription())
                    .contains("s ahead of this coordinator's clock, more than the 60 s allowed");
              });
      assertThat(node(p.coordinators().view(0, 2_000), "node-3").getAddress())
          .isNotEqualTo(NOWHERE);

      // 3. a forged goodbye: node-2 is LEFT for a moment, and back because it beats on
      long node2 = node(p.coordinators().view(0, 2_000), "node-2").getIncarnation();
      forger
          .withDeadlineAfter(2, TimeUnit.SECONDS)
          .leave(
              LeaveRequest.newBuilder()
                  .setNodeId("node-2")
                  .setIncarnation(node2)
                  .setReason("forged")
                  .build());
      assertThat(node(p.coordinators().view(0, 2_000), "node-2").getState()).isEqualTo(LEFT);
      p.awaitState("node-2", ALIVE, List.of("coordinator-1"), Duration.ofSeconds(10));
      p.awaitMoreAnswersFrom("node-2", 10);

      p.awaitMoreAnswers(40);
      p.stopLoadAndAssertNoClientVisibleFailure();
      for (String n : List.of("node-1", "node-2", "node-3")) {
        assertThat(p.statesSeen(n, fault)).as(n).doesNotContain(DEAD);
      }
    }
  }

  @Test
  void aFloodOfNodeIdsIsBoundedAndReported() throws Exception {
    try (RunningCluster c = new RunningCluster(1, 3)) {
      ClusterProbe p = c.probe;
      c.cluster.signal("node-3", "KILL"); // it comes back after the flood
      p.awaitState("node-3", DEAD, Duration.ofSeconds(5));
      MembershipGrpc.MembershipFutureStub forger =
          MembershipGrpc.newFutureStub(p.coordinators().channel(0));
      long incarnation = System.currentTimeMillis();
      int sent = 3_000;
      long start = System.nanoTime();
      // all at once, as a flood would come: the ghosts join faster than the first ones can die
      // (a ghost is DEAD 600 ms after its beat, and makes room for another)
      List<ListenableFuture<HeartbeatReply>> replies = new ArrayList<>();
      for (int i = 1; i <= sent; i++) {
        replies.add(
            forger
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .heartbeat(beat("ghost-" + i, NOWHERE, incarnation, 1)));
      }
      Map<Status.Code, Integer> codes = new EnumMap<>(Status.Code.class);
      for (ListenableFuture<HeartbeatReply> r : replies) {
        Status.Code code = Status.Code.OK;
        try {
          r.get();
        } catch (ExecutionException e) {
          code = Status.fromThrowable(e.getCause()).getCode();
        }
        codes.merge(code, 1, Integer::sum);
      }
      System.out.printf(
          "%d ghost beats in %d ms: %s%n",
          sent, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), codes);

      int refused = codes.getOrDefault(Status.Code.RESOURCE_EXHAUSTED, 0);
      assertThat(codes.keySet()).containsOnly(Status.Code.OK, Status.Code.RESOURCE_EXHAUSTED);
      assertThat(refused).isPositive();
      // the coordinator counts after it answers (outside its lock): wait for the count to settle
      await("the refusals counted")
          .atMost(Duration.ofSeconds(10))
          .until(() -> p.coordinators().view(0, 2_000).getHeartbeatsRefused() == refused);
      ClusterView v = p.coordinators().view(0, 2_000);
      // 128 members at most (the default --max-nodes); as ghosts die, new ones take their places
      assertThat(v.getNodesCount()).isEqualTo(128);
      assertThat(v.getLastGuardEvent())
          .contains("its limit (--max-nodes), none of them DEAD or LEFT for more than 2 s");
      await("the refusals in the meters")
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  Scrape.of(c.cluster.member("coordinator-1").metricsUrl())
                          .sum("ftlab_heartbeats_refused_total", "reason", "table_full")
                      == refused);
      // the node meters are as bounded as the table
      assertThat(
              Scrape.of(c.cluster.member("coordinator-1").metricsUrl()).samples.stream()
                  .filter(x -> x.name().equals("ftlab_node_capacity_tasks"))
                  .count())
          .isLessThanOrEqualTo(128);
      // the flood kept the coordinator's one network thread busy for a second or two, so the
      // real nodes' beats waited in line: they may have been SUSPECT, even DEAD, meanwhile
      p.awaitState("node-1", ALIVE, Duration.ofSeconds(10));
      p.awaitState("node-2", ALIVE, Duration.ofSeconds(10));

      // a real node still gets in: the ghosts fell silent, and it takes the place of the one
      // dead the longest
      c.cluster.start("node-3");
      p.awaitState("node-3", ALIVE, Duration.ofSeconds(30));
      p.startLoad();
      p.awaitMoreAnswersFrom("node-3", 20);
      p.awaitMoreAnswers(150);
      p.stopLoadAndAssertNoClientVisibleFailure();
      assertThat(p.coordinators().view(0, 2_000).getNodesCount()).isEqualTo(128);
    }
  }
}
