package ftlab.coordinator.dispatch;

import ftlab.clock.FakeClock;
import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.DetectorConfig;
import ftlab.coordinator.membership.Heartbeat;
import ftlab.coordinator.membership.MembershipEvent;
import ftlab.coordinator.membership.NodeSnapshot;
import ftlab.coordinator.membership.QuarantineConfig;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Fake nodes that join a real {@link Cluster} by heartbeat, as real ones do, for dispatch tests:
 * each node is a {@link FakeWorker} on gRPC's in-process transport, and the cluster's failure
 * detector runs on a fake clock that only the test moves.
 */
final class NodesFixture implements AutoCloseable {
  static final long MS = 1_000_000L;

  /**
   * The one clock of the test: the failure detector's and the dispatcher's (deadlines, timeouts,
   * hedges, rounds). Only the test moves it.
   */
  final FakeClock clock = new FakeClock();

  /** Every membership event, in order. */
  final List<MembershipEvent> events = new CopyOnWriteArrayList<>();

  final Cluster cluster;

  /** A unique prefix for this fixture's in-process server names. */
  private final String names = InProcessServerBuilder.generateName();

  /** How many channels the caller opened to each address. */
  final Map<String, Integer> channelsOpened = new ConcurrentHashMap<>();

  /**
   * Calls to the fake nodes. The real-time backstop deadline (GrpcNodeCaller.BACKSTOP) is made
   * longer than any test, so that only the fake clock ends an attempt.
   */
  final GrpcNodeCaller caller =
      new GrpcNodeCaller(
          address -> {
            channelsOpened.merge(address, 1, Integer::sum);
            return InProcessChannelBuilder.forName(address).directExecutor().build();
          },
          Duration.ofMinutes(10));

  private final List<FakeWorker> workers = new ArrayList<>();
  private final Map<String, Long> sequences = new HashMap<>();

  NodesFixture() {
    this(QuarantineConfig.DEFAULT);
  }

  NodesFixture(QuarantineConfig quarantine) {
    this.cluster = new Cluster(DetectorConfig.DEFAULT, quarantine, clock::nanoTime, events::add);
  }

  String address(String nodeId) {
    return names + "." + nodeId + ":7101"; // a HOST:PORT, as heartbeats must give
  }

  /** Starts a fake node and makes it known to the cluster with a first heartbeat. */
  FakeWorker node(String nodeId, FakeWorker.Behaviour... script) throws IOException {
    FakeWorker worker = FakeWorker.serving(nodeId, address(nodeId), script);
    workers.add(worker);
    beat(nodeId);
    return worker;
  }

  /**
   * A node that beats as {@code nodeId}, but whose address leads to another node, {@code
   * answeringAs}: what a coordinator meets when containers that restarted together swapped their IP
   * addresses and a name lookup was cached.
   */
  FakeWorker misdirectedNode(String nodeId, String answeringAs, FakeWorker.Behaviour... script)
      throws IOException {
    FakeWorker worker = FakeWorker.serving(answeringAs, address(nodeId), script);
    workers.add(worker);
    beat(nodeId);
    return worker;
  }

  /** A node that beats, but nothing listens at its address: calls to it are refused. */
  void refusingNode(String nodeId) {
    beat(nodeId);
  }

  void beat(String nodeId) {
    beat(nodeId, 0);
  }

  void beat(String nodeId, int reportedInFlight) {
    long sequence = sequences.merge(nodeId, 1L, Long::sum);
    cluster.heartbeat(new Heartbeat(nodeId, address(nodeId), 1, sequence, reportedInFlight, 4));
  }

  /**
   * Moves the clock in 100 ms steps (one heartbeat interval); at each step the nodes in {@code
   * keepBeating} send a heartbeat, then the detector runs, as in the coordinator.
   */
  void advance(long millis, String... keepBeating) {
    for (long t = 0; t < millis; t += 100) {
      clock.advance(100 * MS);
      for (String nodeId : keepBeating) {
        beat(nodeId);
      }
      cluster.tick();
    }
  }

  NodeSnapshot snapshot(String nodeId) {
    return cluster.node(nodeId).orElseThrow();
  }

  @Override
  public void close() throws InterruptedException {
    caller.close();
    for (FakeWorker w : workers) {
      w.crash();
    }
  }
}
