package ftlab.coordinator;

import static ftlab.coordinator.dispatch.FakeWorker.Behaviour.HEALTHY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ftlab.coordinator.dispatch.Dispatcher;
import ftlab.coordinator.dispatch.FakeWorker;
import ftlab.coordinator.membership.DetectorConfig;
import ftlab.proto.Answer;
import ftlab.proto.AttemptWords;
import ftlab.proto.BadRequests;
import ftlab.proto.ClusterView;
import ftlab.proto.CoordinatorGrpc;
import ftlab.proto.CountPrimes;
import ftlab.proto.GetClusterRequest;
import ftlab.proto.HeartbeatReply;
import ftlab.proto.HeartbeatRequest;
import ftlab.proto.LeaveReply;
import ftlab.proto.LeaveRequest;
import ftlab.proto.Load;
import ftlab.proto.MembershipGrpc;
import ftlab.proto.NodeState;
import ftlab.proto.NodeView;
import ftlab.proto.SubmitRequest;
import ftlab.proto.Task;
import ftlab.task.Tasks;
import io.grpc.CallOptions;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The whole coordinator, wired as in production but on gRPC's in-process transport: nodes join
 * through the Membership service, a client submits through the Coordinator service, and the
 * standard health service answers (docs/architecture.md, "Dispatch with failover" and "The failure
 * detector"). The nodes are {@link FakeWorker}s; their heartbeats are sent by the test.
 *
 * <p>Which node gets a task is made certain through the load the nodes report (the least loaded
 * wins), since the coordinator breaks ties at random.
 */
class CoordinatorServerTest {
  /**
   * Beats every 10 s, so SUSPECT after 30 s of silence: the coordinator's detector runs on real
   * time, and this keeps it from moving a node while a test looks. These tests check the wiring;
   * MembershipTest checks the timing, on a fake clock.
   */
  private static final DetectorConfig SLOW_DETECTOR =
      new DetectorConfig(Duration.ofSeconds(10), 3, 6);

  /** Generous attempt deadlines: no node here hangs, so nothing ever waits for them. */
  private static final Dispatcher.Settings SETTINGS =
      new Dispatcher.Settings(Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofMillis(1));

  /** A node's start time in epoch milliseconds, as real nodes use for their incarnation. */
  private static final long INCARNATION = 1_700_000_000_000L;

  private static final Task PRIMES =
      Task.newBuilder().setCountPrimes(CountPrimes.newBuilder().setFrom(0).setTo(1_000)).build();

  private final String names = InProcessServerBuilder.generateName();
  private final List<FakeWorker> workers = new ArrayList<>();

  /** The channels the coordinator opened to nodes, by address, so that a test can watch them. */
  private final Map<String, ManagedChannel> nodeChannels = new ConcurrentHashMap<>();

  private CoordinatorServer coordinator;
  private ManagedChannel channel;

  @BeforeEach
  void startCoordinator() throws IOException {
    coordinator =
        new CoordinatorServer(
                "coord-1",
                SLOW_DETECTOR,
                SETTINGS,
                InProcessServerBuilder.forName(names + "/coord-1"),
                address -> {
                  ManagedChannel toNode =
                      InProcessChannelBuilder.forName(address).directExecutor().build();
                  nodeChannels.put(address, toNode);
                  return toNode;
                })
            .start();
    channel = InProcessChannelBuilder.forName(names + "/coord-1").directExecutor().build();
  }

  @AfterEach
  void stopEverything() throws InterruptedException {
    channel.shutdownNow();
    coordinator.stop(Duration.ofSeconds(1));
    for (FakeWorker w : workers) {
      w.crash();
    }
  }

  // ---- a node's side: serve Worker, beat, say goodbye ----

  private String address(String nodeId) {
    return names + "." + nodeId + ":7101"; // a HOST:PORT, as heartbeats must give
  }

  private FakeWorker startNode(String nodeId) throws IOException {
    FakeWorker worker = FakeWorker.serving(nodeId, address(nodeId), HEALTHY);
    workers.add(worker);
    return worker;
  }

  /** Every call has a deadline, in tests too: a bug shows as a failure, not as a hung build. */
  private MembershipGrpc.MembershipBlockingStub membership() {
    return MembershipGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
  }

  private HeartbeatReply beat(String nodeId, long sequence, int inFlight) {
    return membership()
        .heartbeat(
            HeartbeatRequest.newBuilder()
                .setNodeId(nodeId)
                .setAddress(address(nodeId))
                .setIncarnation(INCARNATION)
                .setSequence(sequence)
                .setLoad(Load.newBuilder().setInFlight(inFlight).setCapacity(4))
                .setIntervalMs(10_000)
                .build());
  }

  // ---- a client's side ----

  private CoordinatorGrpc.CoordinatorBlockingStub client() {
    return CoordinatorGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
  }

  private Answer submit(String requestId, Task task) {
    return client()
        .submit(SubmitRequest.newBuilder().setRequestId(requestId).setTask(task).build());
  }

  private ClusterView cluster() {
    return client().getCluster(GetClusterRequest.getDefaultInstance());
  }

  private NodeView view(String nodeId) {
    return cluster().getNodesList().stream()
        .filter(n -> n.getNodeId().equals(nodeId))
        .findFirst()
        .orElseThrow();
  }

  /**
   * Waits at most {@code bound} for a channel to be READY, woken by gRPC's own state-change
   * notifications rather than by polling.
   */
  private static boolean awaitReady(ManagedChannel channel, Duration bound)
      throws InterruptedException {
    CountDownLatch ready = new CountDownLatch(1);
    watchUntilReady(channel, ready);
    return ready.await(bound.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static void watchUntilReady(ManagedChannel channel, CountDownLatch ready) {
    ConnectivityState now = channel.getState(false);
    if (now == ConnectivityState.READY) {
      ready.countDown();
    } else {
      channel.notifyWhenStateChanged(now, () -> watchUntilReady(channel, ready));
    }
  }

  private static List<String> outcomes(Answer answer) {
    return answer.getAttemptsList().stream()
        .map(a -> a.getNodeId() + " " + AttemptWords.outcome(a))
        .toList();
  }

  // ---- the tests ----

  @Test
  void nodesJoinByHeartbeatAndAClientGetsItsAnswer() throws IOException {
    FakeWorker busy = startNode("node-1");
    startNode("node-2");

    HeartbeatReply reply = beat("node-1", 1, 3); // running 3 tasks already
    beat("node-2", 1, 0);
    Answer answer = submit("req-1", PRIMES);

    assertThat(reply.getCoordinatorId()).isEqualTo("coord-1");
    assertThat(reply.getState()).isEqualTo(NodeState.ALIVE);
    assertThat(answer.getRequestId()).isEqualTo("req-1");
    assertThat(answer.getResult()).isEqualTo(Tasks.expectedResult(PRIMES)); // 168 primes
    assertThat(answer.getNodeId()).isEqualTo("node-2"); // the less loaded node
    assertThat(answer.getCoordinatorId()).isEqualTo("coord-1");
    assertThat(outcomes(answer)).containsExactly("node-2 OK");
    assertThat(busy.calls()).isZero();
  }

  @Test
  void getClusterShowsEveryNodeWithStateLoadAndReason() throws IOException {
    startNode("node-1");
    startNode("node-2");
    beat("node-1", 1, 3);
    beat("node-2", 1, 0);
    submit("req-1", PRIMES);

    ClusterView view = cluster();

    assertThat(view.getCoordinatorId()).isEqualTo("coord-1");
    // the detector's thresholds, so that a reader can make sense of the states: 3 and 6 x 10 s
    assertThat(view.getDetector().getSuspectAfterMs()).isEqualTo(30_000);
    assertThat(view.getDetector().getDeadAfterMs()).isEqualTo(60_000);
    assertThat(view.getNodesList())
        .extracting(NodeView::getNodeId)
        .containsExactly("node-1", "node-2");
    for (NodeView node : view.getNodesList()) {
      assertThat(node.getState()).isEqualTo(NodeState.ALIVE);
      assertThat(node.getAddress()).isEqualTo(address(node.getNodeId()));
      assertThat(node.getIncarnation()).isEqualTo(INCARNATION);
      assertThat(node.getLoad().getCapacity()).isEqualTo(4);
      assertThat(node.getLastTransitionReason())
          .isEqualTo(
              "first heartbeat (incarnation " + INCARNATION + ", " + node.getAddress() + ")");
      assertThat(node.getCoordinatorInFlight()).isZero(); // the request is over
      assertThat(node.getFailedAttempts()).isZero();
    }
    assertThat(view.getNodes(0).getLoad().getInFlight()).isEqualTo(3);
    assertThat(view.getNodes(0).getAnswers()).isZero();
    assertThat(view.getNodes(1).getLoad().getInFlight()).isZero();
    assertThat(view.getNodes(1).getAnswers()).isEqualTo(1);
  }

  @Test
  void aNodeThatLeavesIsLeftAndGetsNoMoreWork() throws IOException {
    FakeWorker leaving = startNode("node-1");
    startNode("node-2");
    beat("node-1", 1, 0);
    beat("node-2", 1, 3); // more loaded: node-1 would get the work if it stayed

    LeaveReply reply =
        membership()
            .leave(
                LeaveRequest.newBuilder()
                    .setNodeId("node-1")
                    .setIncarnation(INCARNATION)
                    .setReason("SIGTERM, draining")
                    .build());

    assertThat(reply.getCoordinatorId()).isEqualTo("coord-1");
    assertThat(view("node-1").getState()).isEqualTo(NodeState.LEFT);
    assertThat(view("node-1").getLastTransitionReason())
        .isEqualTo("said goodbye: SIGTERM, draining");
    assertThat(view("node-2").getState()).isEqualTo(NodeState.ALIVE);
    // a beat the leaving process sent before it stopped does not bring it back
    assertThat(beat("node-1", 2, 0).getState()).isEqualTo(NodeState.LEFT);
    assertThat(submit("req-1", PRIMES).getNodeId()).isEqualTo("node-2");
    assertThat(leaving.calls()).isZero();
  }

  @Test
  void aNodeThatComesBackIsReconnectedAtOnce() throws Exception {
    beat("node-1", 1, 0); // its process is not listening yet: calls to it are refused
    startNode("node-2");
    beat("node-2", 1, 1);

    Answer first = submit("req-1", PRIMES);
    assertThat(outcomes(first)).containsExactly("node-1 UNAVAILABLE", "node-2 OK");
    // node-1 joined a moment ago: within the reconnect grace a refused call is not held against it
    assertThat(view("node-1").getState()).isEqualTo(NodeState.ALIVE);
    assertThat(view("node-1").getFailedAttempts()).isEqualTo(1);

    // After the refused call, gRPC waits 0.8 to 1.2 s (its reconnect backoff) before it tries
    // node-1 again. When node-1 starts listening and beats, the beat proves it is up, and the
    // coordinator reconnects at once instead (MembershipService). Even then the new connection is
    // not READY at the very instant the heartbeat is answered, and until it is, calls fail with
    // the old error; so wait for it, for much less time than the backoff would take.
    startNode("node-1");
    assertThat(beat("node-1", 2, 0).getState()).isEqualTo(NodeState.ALIVE);
    assertThat(awaitReady(nodeChannels.get(address("node-1")), Duration.ofMillis(500)))
        .as("connected again to node-1 within 500 ms")
        .isTrue();
    Answer second = submit("req-2", PRIMES);

    assertThat(outcomes(second)).containsExactly("node-1 OK");
  }

  @Test
  void connectionsFromALostLocalAddressAreReplacedWithinSeconds() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean moved =
        new java.util.concurrent.atomic.AtomicBoolean();
    coordinator.judgeLocalAddressesWith(local -> moved.get());
    startNode("node-1");
    startNode("node-2");
    beat("node-1", 1, 0);
    beat("node-2", 1, 1);
    assertThat(submit("req-1", PRIMES).getNodeId()).isEqualTo("node-1");
    assertThat(submit("req-2", PRIMES).getNodeId()).isEqualTo("node-1");
    ManagedChannel before = nodeChannels.get(address("node-1"));
    coordinator.lookAtOwnAddresses();
    assertThat(nodeChannels.get(address("node-1")))
        .as("kept while its end is not lost")
        .isSameAs(before);

    // the coordinator's end of that connection is gone: its look, once a second, replaces it
    moved.set(true);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> nodeChannels.get(address("node-1")) != before);
    moved.set(false);

    assertThat(before.isShutdown()).as("the old connection is let go").isTrue();
    assertThat(submit("req-3", PRIMES).getNodeId()).isEqualTo("node-1");
  }

  @Test
  void errorsReachTheClientWithTheirExplanation() {
    StatusRuntimeException noNode =
        catchThrowableOfType(StatusRuntimeException.class, () -> submit("req-1", PRIMES));
    assertThat(noNode.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(noNode.getStatus().getDescription())
        .startsWith("no node could answer: this coordinator has not heard from any node yet");

    Task tooWide =
        Task.newBuilder()
            .setCountPrimes(CountPrimes.newBuilder().setFrom(0).setTo(20_000_000))
            .build();
    StatusRuntimeException badTask =
        catchThrowableOfType(StatusRuntimeException.class, () -> submit("req-2", tooWide));
    assertThat(badTask.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(badTask.getStatus().getDescription())
        .isEqualTo(
            "count_primes range is too wide: to - from must be at most 10000000, got 20000000");

    StatusRuntimeException badBeat =
        catchThrowableOfType(StatusRuntimeException.class, () -> beat("node-1", 0, 0));
    assertThat(badBeat.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(badBeat.getStatus().getDescription())
        .isEqualTo("heartbeat sequence must start at 1, got 0 from node-1");

    // not protobuf at all: grpc-java alone would answer UNKNOWN (BadRequests)
    MethodDescriptor<byte[], byte[]> rawSubmit =
        CoordinatorGrpc.getSubmitMethod().toBuilder(BadRequests.RAW, BadRequests.RAW).build();
    StatusRuntimeException garbage =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () ->
                ClientCalls.blockingUnaryCall(
                    channel,
                    rawSubmit,
                    CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS),
                    new byte[] {0x0F, 0x01}));
    assertThat(garbage.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(garbage.getStatus().getDescription())
        .isEqualTo(
            "the request is not a valid ftlab.v1.SubmitRequest (Protocol message tag had invalid"
                + " wire type.)");
  }

  @Test
  void healthServiceAnswersServing() {
    HealthGrpc.HealthBlockingStub health =
        HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);

    // "" is the whole server, as probes (grpc_health_probe, Docker healthchecks) ask by default
    for (String service : List.of("", CoordinatorGrpc.SERVICE_NAME, MembershipGrpc.SERVICE_NAME)) {
      assertThat(
              health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus())
          .as("health of service '%s'", service)
          .isEqualTo(ServingStatus.SERVING);
    }
  }

  /**
   * Server reflection lists the services, as grpcurl asks: in the stable v1 and in v1alpha, the
   * only version older grpcurl builds and Postman know.
   */
  @Test
  void reflectionListsTheServicesInBothVersions() throws Exception {
    List<String> v1 =
        listServices(
            "v1",
            io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel)::serverReflectionInfo,
            io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build(),
            r ->
                r.getListServicesResponse().getServiceList().stream()
                    .map(io.grpc.reflection.v1.ServiceResponse::getName)
                    .toList());
    List<String> v1alpha =
        listServices(
            "v1alpha",
            io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(channel)::serverReflectionInfo,
            io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder()
                .setListServices("")
                .build(),
            r ->
                r.getListServicesResponse().getServiceList().stream()
                    .map(io.grpc.reflection.v1alpha.ServiceResponse::getName)
                    .toList());

    assertThat(v1)
        .contains(
            CoordinatorGrpc.SERVICE_NAME,
            MembershipGrpc.SERVICE_NAME,
            "ftlab.v1.CoordinatorAdmin",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection");
    assertThat(v1alpha).containsExactlyInAnyOrderElementsOf(v1);
  }

  /** Asks one version of the reflection service to list the services: its stream, one request. */
  private static <Q, R> List<String> listServices(
      String version,
      java.util.function.Function<io.grpc.stub.StreamObserver<R>, io.grpc.stub.StreamObserver<Q>>
          open,
      Q request,
      java.util.function.Function<R, List<String>> names)
      throws InterruptedException {
    List<String> out = new java.util.concurrent.CopyOnWriteArrayList<>();
    var done = new CountDownLatch(1);
    io.grpc.stub.StreamObserver<Q> requests =
        open.apply(
            new io.grpc.stub.StreamObserver<R>() {
              @Override
              public void onNext(R response) {
                out.addAll(names.apply(response));
              }

              @Override
              public void onError(Throwable t) {
                done.countDown();
              }

              @Override
              public void onCompleted() {
                done.countDown();
              }
            });
    requests.onNext(request);
    requests.onCompleted();
    assertThat(done.await(5, TimeUnit.SECONDS)).as("%s answered", version).isTrue();
    return out;
  }
}
