package ftlab.node;

import ftlab.node.faults.FaultPlan;
import ftlab.proto.NodeAdminGrpc;
import ftlab.proto.WorkerGrpc;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A whole node ({@link NodeServer}: Worker and NodeAdmin services, heartbeats) on the in-process
 * transport, and clients for its services. Its coordinators are reached by in-process name.
 *
 * <p>A Crash request does not halt the test JVM: it stops this node at once, without a goodbye
 * ({@link NodeServer#kill}), which is what the coordinators would see of a halted process.
 */
final class TestNode {
  /**
   * Heartbeat interval in these tests: short, so that waiting for a few beats costs little. A beat
   * is given 2 intervals = 40 ms to be answered before the node gives up on it.
   */
  static final Duration BEAT = Duration.ofMillis(20);

  final String id;

  /** What the node advertises in its beats; the in-process name of its Worker server. */
  final String address;

  final NodeServer server;
  final WorkerGrpc.WorkerBlockingStub blocking;
  final WorkerGrpc.WorkerFutureStub async;
  final NodeAdminGrpc.NodeAdminBlockingStub admin;

  /** Counted down when a Crash request halts the node. */
  final CountDownLatch halted;

  private TestNode(
      InProcessGrpc grpc, String id, NodeServer server, String address, CountDownLatch halted) {
    this.id = id;
    this.address = address;
    this.server = server;
    this.blocking = WorkerGrpc.newBlockingStub(grpc.channel(address));
    this.async = WorkerGrpc.newFutureStub(grpc.channel(address));
    this.admin = NodeAdminGrpc.newBlockingStub(grpc.channel(address));
    this.halted = halted;
  }

  /**
   * Starts node {@code id} with the given capacity, beating every {@link #BEAT} to the coordinators
   * named (they need not be running yet). It is killed after the test if it is still running.
   */
  static TestNode start(InProcessGrpc grpc, String id, int capacity, List<String> coordinators) {
    return start(grpc, id, capacity, coordinators, BEAT);
  }

  /** As above, beating every {@code interval}. */
  static TestNode start(
      InProcessGrpc grpc, String id, int capacity, List<String> coordinators, Duration interval) {
    return start(grpc, id, capacity, coordinators, interval, FaultPlan.NONE);
  }

  /** As above, with faults injected from the start (as --faults does). */
  static TestNode start(
      InProcessGrpc grpc,
      String id,
      int capacity,
      List<String> coordinators,
      Duration interval,
      FaultPlan faults) {
    String address = InProcessGrpc.uniqueName(id);
    CountDownLatch halted = new CountDownLatch(1);
    AtomicReference<NodeServer> self = new AtomicReference<>();
    NodeServer server =
        new NodeServer(
            id,
            address,
            capacity,
            interval,
            coordinators,
            InProcessServerBuilder.forName(address),
            grpc::channel,
            faults,
            () -> {
              self.get().kill();
              halted.countDown();
            });
    self.set(server);
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    grpc.afterTest(server::kill);
    return new TestNode(grpc, id, server, address, halted);
  }
}
