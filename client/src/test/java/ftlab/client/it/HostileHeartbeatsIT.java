package ftlab.client.it;

import static ftlab.proto.NodeState.ALIVE;
import static ftlab.proto.NodeState.DEAD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
 * and the table must stay bounded. (Refusing them outright needs identities: mTLS, not in main
 * yet.)
 */
class HostileHeartbeatsIT {
  /** Where the forged beats say the node is: nothing listens there. */
  private static final String NOWHERE = "127.0.0.1:1";

  private static HeartbeatRequest beat(String node, String address, long incarnation, long seq) {
    return HeartbeatRequest.newBuilder()
        .setNodeId(node)
        .setAddress(address)
        .setIncarnation(incarnation)
        .setSequence(seq)
        .setIntervalMs(100)
        .setLoad(Load.newBuilder().setCapacity(4))
        .build();
  }

  private static NodeView node(ClusterView view, String id) {
    return view.getNodesList().stream()
        .filter(n -> n.getNodeId().equals(id))
        .findFirst()
        .orElseThrow(() -> new AssertionError(id + " not in " + view.getCoordinatorId()));
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

      // 1. one beat that looks like node-1 restarted elsewhere: it takes the id for a moment,
      // then the real node-1's next beat takes it back, and the forger is refused from then on
      forger
          .withDeadlineAfter(2, TimeUnit.SECONDS)
          .heartbeat(beat("node-1", NOWHERE, real.getIncarnation() + 1, 1));
      await("coordinator-1 back at the real node-1's address, with a conflict counted")
          .atMost(Duration.ofSeconds(5))
          .pollInterval(Duration.ofMillis(20))
          .until(
              () -> {
                ClusterView v = p.coordinators().view(0, 2_000);
                NodeView n = node(v, "node-1");
                return n.getAddress().equals(real.getAddress())
                    && n.getIncarnation() == real.getIncarnation()
                    && v.getIdConflicts() >= 1;
              });
      assertThatThrownBy(
              () ->
                  forger
                      .withDeadlineAfter(2, TimeUnit.SECONDS)
                      .heartbeat(beat("node-1", NOWHERE, real.getIncarnation() + 1, 2)))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
                assertThat(e.getStatus().getDescription())
                    .startsWith("coordinator-1 refused the heartbeat of node-1: the id node-1 is")
                    .contains("held by another process that still beats");
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

      ClusterView v = p.coordinators().view(0, 2_000);
      // 128 members at most (the default --max-nodes): the two real nodes and 126 ghosts, the
      // others refused; as ghosts die, new ones take their places, so some more get in
      assertThat(v.getNodesCount()).isEqualTo(128);
      assertThat(codes.keySet()).containsOnly(Status.Code.OK, Status.Code.RESOURCE_EXHAUSTED);
      assertThat(codes.getOrDefault(Status.Code.RESOURCE_EXHAUSTED, 0))
          .isPositive()
          .isEqualTo((int) v.getHeartbeatsRefused());
      assertThat(v.getLastGuardEvent())
          .contains("its limit (--max-nodes), none of them DEAD or LEFT");
      assertThat(node(v, "node-1").getState()).isEqualTo(ALIVE);
      assertThat(node(v, "node-2").getState()).isEqualTo(ALIVE);
      // counted in the meters too, and the node-tagged meters are as bounded as the table
      Scrape scrape = Scrape.of(c.cluster.member("coordinator-1").metricsUrl());
      assertThat(scrape.sum("ftlab_heartbeats_refused_total", "reason", "table_full"))
          .isEqualTo((double) v.getHeartbeatsRefused());
      assertThat(
              scrape.samples.stream()
                  .filter(x -> x.name().equals("ftlab_node_capacity_tasks"))
                  .count())
          .isLessThanOrEqualTo(128);

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
