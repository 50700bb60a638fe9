package ftlab.client.watch;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.client.Coordinators;
import ftlab.proto.Answer;
import ftlab.proto.CoordinatorGrpc;
import ftlab.proto.Echo;
import ftlab.proto.Failures;
import ftlab.proto.SubmitRequest;
import ftlab.proto.Task;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The client's side of a full cluster: coordinators that refuse with RESOURCE_EXHAUSTED (their
 * admission limit) are tried in turn, with a doubling pause between rounds, and after {@link
 * CoordinatorFailover#FULL_ROUNDS} rounds the request fails with their reason, long before its
 * deadline. Real gRPC servers play the coordinators.
 */
class CoordinatorFailoverTest {
  private final List<Server> servers = new ArrayList<>();

  /** When each call arrived, in {@link System#nanoTime()}, at either coordinator. */
  private final List<Long> calls = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    servers.forEach(Server::shutdownNow);
  }

  @Test
  void whenEveryCoordinatorIsFullTheClientBacksOffAndGivesUpWithTheirReason() throws Exception {
    String full = "coordinator-1 is full: 8 requests in progress, the most it takes on (...)";
    String a = coordinator(Status.RESOURCE_EXHAUSTED.withDescription(full));
    String b = coordinator(Status.RESOURCE_EXHAUSTED.withDescription(full));
    try (Coordinators c = new Coordinators(List.of(a, b))) {
      CoordinatorFailover failover =
          new CoordinatorFailover(c, Duration.ofSeconds(2), Duration.ofSeconds(10));
      long start = System.nanoTime();

      CoordinatorFailover.Result r = failover.call(request());

      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(r.answer()).isNull();
      assertThat(r.error())
          .startsWith("refused as full in 5 rounds, ")
          .endsWith(" ms in all: RESOURCE_EXHAUSTED: " + full);
      // both coordinators in each of the 5 rounds, then no more
      assertThat(calls).hasSize(2 * CoordinatorFailover.FULL_ROUNDS);
      // the pauses between rounds: 50, 100, 200 and 400 ms, at least (sleeps end late, not early)
      List<Long> gapsMs = new ArrayList<>();
      for (int round = 1; round < CoordinatorFailover.FULL_ROUNDS; round++) {
        gapsMs.add((calls.get(2 * round) - calls.get(2 * round - 1)) / 1_000_000);
      }
      assertThat(gapsMs.get(0)).isGreaterThanOrEqualTo(45);
      assertThat(gapsMs.get(1)).isGreaterThanOrEqualTo(95);
      assertThat(gapsMs.get(2)).isGreaterThanOrEqualTo(195);
      assertThat(gapsMs.get(3)).isGreaterThanOrEqualTo(395);
      // and far from the request's 10 s deadline (a generous bound: a busy machine is slow)
      assertThat(tookMs).isLessThan(5_000);
    }
  }

  @Test
  void aCoordinatorThatIsDownDoesNotStopTheBackoffFromTheFullOne() throws Exception {
    String full = "coordinator-2 is full: 8 requests in progress, the most it takes on (...)";
    String down = "127.0.0.1:" + freePort();
    String b = coordinator(Status.RESOURCE_EXHAUSTED.withDescription(full));
    try (Coordinators c = new Coordinators(List.of(down, b))) {
      CoordinatorFailover failover =
          new CoordinatorFailover(c, Duration.ofSeconds(2), Duration.ofSeconds(10));

      CoordinatorFailover.Result r = failover.call(request());

      assertThat(r.error())
          .startsWith("refused as full in 5 rounds, ")
          .endsWith(" ms in all: RESOURCE_EXHAUSTED: " + full);
      assertThat(calls).hasSize(CoordinatorFailover.FULL_ROUNDS);
    }
  }

  @Test
  void aRateLimitsRefusalIsNotFullTheClientKeepsTryingUntilItsDeadline() throws Exception {
    // RESOURCE_EXHAUSTED without the "full" trailer, as the coordinator's rate limit sends it
    String a =
        coordinator(Status.RESOURCE_EXHAUSTED.withDescription("more than 50 requests/s"), false);
    try (Coordinators c = new Coordinators(List.of(a))) {
      CoordinatorFailover failover =
          new CoordinatorFailover(c, Duration.ofSeconds(2), Duration.ofMillis(1_500));

      CoordinatorFailover.Result r = failover.call(request());

      // the deadline may come between two tries or during the last one (cut short): either way
      // the reason given is the coordinator's refusal
      assertThat(r.error())
          .startsWith("gave up after 1500 ms: RESOURCE_EXHAUSTED: more than 50 requests/s");
      // a round every 50 ms for 1.5 s: many more than the 5 rounds of a full coordinator
      assertThat(calls.size()).isGreaterThan(CoordinatorFailover.FULL_ROUNDS);
    }
  }

  @Test
  void aTryCutShortByTheRequestsDeadlineDoesNotHideTheRefusalBeforeIt() throws Exception {
    // refuses the first call (a rate limit's refusal: retried), then never answers: the second
    // try is cut short by the request's own deadline
    Server s =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(
                new CoordinatorGrpc.CoordinatorImplBase() {
                  @Override
                  public void submit(SubmitRequest request, StreamObserver<Answer> reply) {
                    if (calls.isEmpty()) {
                      calls.add(System.nanoTime());
                      reply.onError(
                          Status.RESOURCE_EXHAUSTED
                              .withDescription("more than 50 requests/s")
                              .asException());
                    } // else: no answer at all
                  }
                })
            .build()
            .start();
    servers.add(s);
    try (Coordinators c = new Coordinators(List.of("127.0.0.1:" + s.getPort()))) {
      CoordinatorFailover failover =
          new CoordinatorFailover(c, Duration.ofSeconds(2), Duration.ofMillis(800));

      CoordinatorFailover.Result r = failover.call(request());

      assertThat(r.error())
          .isEqualTo(
              "gave up after 800 ms: RESOURCE_EXHAUSTED: more than 50 requests/s (then no answer"
                  + " before the request's deadline)");
    }
  }

  @Test
  void aFullCoordinatorIsNoReasonToFailWhenAnotherHasRoom() throws Exception {
    String a = coordinator(Status.RESOURCE_EXHAUSTED.withDescription("coordinator-1 is full"));
    String b = coordinator(null);
    try (Coordinators c = new Coordinators(List.of(a, b))) {
      CoordinatorFailover failover =
          new CoordinatorFailover(c, Duration.ofSeconds(2), Duration.ofSeconds(10));
      for (int i = 0; i < 4; i++) {
        CoordinatorFailover.Result r = failover.call(request());
        assertThat(r.error()).isNull();
        assertThat(r.answer().getRequestId()).isEqualTo("r1");
      }
    }
  }

  private static SubmitRequest request() {
    return SubmitRequest.newBuilder()
        .setRequestId("r1")
        .setTask(Task.newBuilder().setEcho(Echo.newBuilder().setValue("v")))
        .build();
  }

  /**
   * A coordinator that refuses every request with {@code refusal} as full (with the trailer its
   * admission limit sends), or answers if it is null.
   */
  private String coordinator(Status refusal) throws IOException {
    return coordinator(refusal, true);
  }

  private static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private String coordinator(Status refusal, boolean full) throws IOException {
    Server s =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(
                new CoordinatorGrpc.CoordinatorImplBase() {
                  @Override
                  public void submit(SubmitRequest request, StreamObserver<Answer> reply) {
                    calls.add(System.nanoTime());
                    if (refusal != null) {
                      reply.onError(
                          refusal.asException(full ? Failures.full("coordinator-x") : null));
                      return;
                    }
                    reply.onNext(Answer.newBuilder().setRequestId(request.getRequestId()).build());
                    reply.onCompleted();
                  }
                })
            .build()
            .start();
    servers.add(s);
    return "127.0.0.1:" + s.getPort();
  }
}
