package ftlab.client.it;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.client.status.StatusCommand;
import ftlab.proto.ClusterView;
import ftlab.proto.CoordinatorGrpc;
import ftlab.proto.Echo;
import ftlab.proto.MembershipGrpc;
import ftlab.proto.NodeView;
import ftlab.proto.SubmitRequest;
import ftlab.proto.Task;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Issue 10's rate limits against real processes, in plaintext (they need no certificate): a client
 * that floods a coordinator, and a forger that floods heartbeats as node-1, each on a connection of
 * its own, are cut to their limits with RESOURCE_EXHAUSTED and a sentence, counted on the defence
 * scoreboard; the checked load and node-1, on their own connections, are not touched.
 */
class RateLimitsIT {
  private static final int REQUESTS_PER_SECOND = 100;
  private static final int BEATS_PER_SECOND = 50;

  /** What a flood's calls came back with: "ok", or the status code and description's start. */
  private record Flood(Map<String, AtomicLong> outcomes, long elapsedNanos) {
    long count(String outcome) {
      AtomicLong n = outcomes.get(outcome);
      return n == null ? 0 : n.get();
    }

    /** How many calls a limit of {@code perSecond} lets through in the flood's time, at most. */
    long mostAllowed(int perSecond) {
      return perSecond + (long) Math.ceil(perSecond * elapsedNanos / 1e9) + 1;
    }
  }

  /**
   * Sends {@code calls} calls, 4 at a time (with the checked load's 4, as many as the 3 nodes'
   * capacity), from 4 threads on one connection; bounded in count and time (5 s deadlines).
   */
  private static Flood flood(int calls, Function<Integer, Object> call) throws Exception {
    Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
    AtomicLong next = new AtomicLong();
    ExecutorService threads = Executors.newFixedThreadPool(4);
    long start = System.nanoTime();
    List<java.util.concurrent.Future<?>> done = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      done.add(
          threads.submit(
              () -> {
                for (long i = next.getAndIncrement(); i < calls; i = next.getAndIncrement()) {
                  String outcome;
                  try {
                    call.apply((int) i);
                    outcome = "ok";
                  } catch (StatusRuntimeException e) {
                    String d = String.valueOf(e.getStatus().getDescription());
                    outcome = e.getStatus().getCode() + ": " + d.replaceAll("\\d+ ms", "N ms");
                  }
                  outcomes.computeIfAbsent(outcome, k -> new AtomicLong()).incrementAndGet();
                }
              }));
    }
    for (java.util.concurrent.Future<?> f : done) {
      f.get(60, TimeUnit.SECONDS);
    }
    long elapsed = System.nanoTime() - start;
    threads.shutdown();
    System.out.println("flood of " + calls + " in " + elapsed / 1_000_000 + " ms: " + outcomes);
    return new Flood(outcomes, elapsed);
  }

  private static NodeView node(ClusterView view, String id) {
    return view.getNodesList().stream()
        .filter(n -> n.getNodeId().equals(id))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void aFloodingClientAndAFloodOfBeatsAreCutToTheirLimits() throws Exception {
    try (RunningCluster c =
        new RunningCluster(
            1,
            3,
            false,
            "--client-rate-limit",
            Integer.toString(REQUESTS_PER_SECOND),
            "--heartbeat-rate-limit",
            Integer.toString(BEATS_PER_SECOND))) {
      // the checked load on its own connection, at 10 requests/s: a tenth of the limit, so that
      // even catching up after a long stall of this machine it stays within its own burst
      ClusterProbe p = c.probe;
      p.startLoad(ClusterProbe.LOAD.withRate(10));
      p.awaitMoreAnswers(40);
      String address = p.coordinators().address(0);
      ManagedChannel own = ManagedChannelBuilder.forTarget(address).usePlaintext().build();
      try {
        // 1. a client that sends as fast as it can: 2,000 echoes
        CoordinatorGrpc.CoordinatorBlockingStub client = CoordinatorGrpc.newBlockingStub(own);
        Task echo = Task.newBuilder().setEcho(Echo.newBuilder().setValue("flood")).build();
        Flood requests =
            flood(
                2_000,
                i ->
                    client
                        .withDeadlineAfter(5, TimeUnit.SECONDS)
                        .submit(
                            SubmitRequest.newBuilder()
                                .setRequestId("flood-" + i)
                                .setTask(echo)
                                .build()));
        String limited =
            "RESOURCE_EXHAUSTED: coordinator-1 refused the request: more than "
                + REQUESTS_PER_SECOND
                + " requests/s from one client connection, the limit (--client-rate-limit): try"
                + " again in N ms";
        assertThat(requests.outcomes().keySet()).containsOnly("ok", limited);
        assertThat(requests.count("ok"))
            .isPositive()
            .isLessThanOrEqualTo(requests.mostAllowed(REQUESTS_PER_SECOND));

        // 2. forged beats as node-1 from a connection of their own, with an incarnation an hour
        // ahead (never believed, whatever node-1's timing): the first are refused by the
        // membership, the rest by the rate limit; node-1's own beats, on its own connection, go on
        NodeView real = node(p.coordinators().view(0, 2_000), "node-1");
        long future = System.currentTimeMillis() + 3_600_000;
        MembershipGrpc.MembershipBlockingStub forger = MembershipGrpc.newBlockingStub(own);
        Flood beats =
            flood(
                1_000,
                i ->
                    forger
                        .withDeadlineAfter(5, TimeUnit.SECONDS)
                        .heartbeat(
                            HostileHeartbeatsIT.heartbeat("node-1", "127.0.0.1:1", future, i + 1)
                                .build()));
        String beatLimited =
            "RESOURCE_EXHAUSTED: coordinator-1 refused the heartbeat of node-1: more than "
                + BEATS_PER_SECOND
                + " heartbeats/s for one node id on one connection, the limit"
                + " (--heartbeat-rate-limit): try again in N ms";
        long byMembership =
            beats.outcomes().entrySet().stream()
                .filter(e -> e.getKey().startsWith("FAILED_PRECONDITION: "))
                .mapToLong(e -> e.getValue().get())
                .sum();
        assertThat(beats.count(beatLimited) + byMembership).isEqualTo(1_000);
        assertThat(byMembership)
            .isPositive()
            .isLessThanOrEqualTo(beats.mostAllowed(BEATS_PER_SECOND));

        ClusterView view = p.coordinators().view(0, 2_000);
        assertThat(node(view, "node-1").getAddress()).isEqualTo(real.getAddress());
        assertThat(view.getSecurity().getRefusedMap())
            .containsEntry("rate_limit", requests.count(limited) + beats.count(beatLimited));
        // exactly the floods' refusals: the checked load and node-1 were never refused
        assertThat(StatusCommand.table(view, address))
            .contains("security: plaintext (")
            .contains(
                "; refused: "
                    + (requests.count(limited) + beats.count(beatLimited))
                    + " by rate_limit; latest, ");
      } finally {
        own.shutdownNow();
      }
      p.awaitMoreAnswersFrom("node-1", 10);
      p.awaitMoreAnswers(40);
      p.stopLoadAndAssertNoClientVisibleFailure();
    }
  }
}
