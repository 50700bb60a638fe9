package ftlab.client.watch;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.client.Coordinators;
import ftlab.proto.ClusterView;
import ftlab.proto.CoordinatorGrpc;
import ftlab.proto.GetClusterRequest;
import ftlab.proto.NodeState;
import ftlab.proto.NodeView;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The watch's wait for a node ALIVE, against real gRPC servers that play coordinators. */
class NodesReadyTest {
  private final List<Server> servers = new ArrayList<>();
  private final List<String> said = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    servers.forEach(Server::shutdownNow);
  }

  @Test
  void saysNothingWhenEveryCoordinatorAlreadyHasANodeAlive() throws Exception {
    String a = coordinator("coordinator-1", asked -> view("coordinator-1", NodeState.ALIVE));
    String b = coordinator("coordinator-2", asked -> view("coordinator-2", NodeState.ALIVE));
    try (Coordinators c = new Coordinators(List.of(a, b))) {
      assertThat(NodesReady.await(c, Duration.ofSeconds(5), said::add)).isTrue();
    }
    assertThat(said).isEmpty();
  }

  @Test
  void waitsUntilEveryCoordinatorThatAnswersHasANodeAliveAndSaysHowLong() throws Exception {
    // coordinator-1 has its node from the start; coordinator-2 hears of one on its 4th look
    String a = coordinator("coordinator-1", asked -> view("coordinator-1", NodeState.ALIVE));
    String b =
        coordinator(
            "coordinator-2",
            asked ->
                asked < 4
                    ? view("coordinator-2", NodeState.DEAD)
                    : view("coordinator-2", NodeState.SUSPECT, NodeState.ALIVE));
    try (Coordinators c = new Coordinators(List.of(a, b))) {
      assertThat(NodesReady.await(c, Duration.ofSeconds(20), said::add)).isTrue();
    }
    assertThat(said).hasSize(2);
    assertThat(said.get(0))
        .startsWith("waiting up to 20 s for a node ALIVE before counting: ")
        .contains("coordinator-1 1 of 1 nodes ALIVE, coordinator-2 0 of 1 nodes ALIVE");
    assertThat(said.get(1))
        .startsWith("ready after ")
        .endsWith("coordinator-1 1 of 1 nodes ALIVE, coordinator-2 1 of 2 nodes ALIVE");
  }

  @Test
  void doesNotWaitForACoordinatorThatDoesNotAnswer() throws Exception {
    String a = coordinator("coordinator-1", asked -> view("coordinator-1", NodeState.ALIVE));
    String nobody = "127.0.0.1:" + freePort();
    try (Coordinators c = new Coordinators(List.of(nobody, a))) {
      assertThat(NodesReady.await(c, Duration.ofSeconds(20), said::add)).isTrue();
    }
    assertThat(said).isEmpty();
  }

  @Test
  void givesUpAtTheBoundAndSaysWhatItLastSaw() throws Exception {
    String a = coordinator("coordinator-1", asked -> view("coordinator-1"));
    try (Coordinators c = new Coordinators(List.of(a))) {
      assertThat(NodesReady.await(c, Duration.ofMillis(600), said::add)).isFalse();
    }
    assertThat(said).hasSize(2);
    assertThat(said.get(1))
        .startsWith("still not ready after ")
        .contains("(coordinator-1 0 of 0 nodes ALIVE); counting anyway");
  }

  @Test
  void noCoordinatorAnsweringIsNotReadyButIsNotWaitedForWithZero() throws Exception {
    String nobody = "127.0.0.1:" + freePort();
    try (Coordinators c = new Coordinators(List.of(nobody))) {
      NodesReady.Look look = NodesReady.look(c);
      assertThat(look.ready()).isFalse();
      assertThat(look.describe())
          .startsWith(nobody + " no answer (UNAVAILABLE: connection refused");
      assertThat(NodesReady.await(c, Duration.ZERO, said::add)).isFalse();
    }
    assertThat(said).isEmpty();
  }

  interface Answer {
    ClusterView view(int asked);
  }

  private String coordinator(String id, Answer answer) throws IOException {
    AtomicInteger asked = new AtomicInteger();
    Server s =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(
                new CoordinatorGrpc.CoordinatorImplBase() {
                  @Override
                  public void getCluster(
                      GetClusterRequest request, StreamObserver<ClusterView> reply) {
                    reply.onNext(answer.view(asked.incrementAndGet()));
                    reply.onCompleted();
                  }
                })
            .build()
            .start();
    servers.add(s);
    return "127.0.0.1:" + s.getPort();
  }

  private static ClusterView view(String id, NodeState... states) {
    ClusterView.Builder v = ClusterView.newBuilder().setCoordinatorId(id);
    for (int i = 0; i < states.length; i++) {
      v.addNodes(NodeView.newBuilder().setNodeId("node-" + (i + 1)).setState(states[i]));
    }
    return v.build();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
