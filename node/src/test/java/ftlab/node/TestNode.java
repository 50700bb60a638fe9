package ftlab.node;

import ftlab.proto.WorkerGrpc;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;

/**
 * A whole node ({@link NodeServer}: Worker service and heartbeats) on the in-process transport, and
 * a client for its Worker service. Its coordinators are reached by in-process name.
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

  private TestNode(InProcessGrpc grpc, String id, NodeServer server, String address) {
    this.id = id;
    this.address = address;
    this.server = server;
    this.blocking = WorkerGrpc.newBlockingStub(grpc.channel(address));
    this.async = WorkerGrpc.newFutureStub(grpc.channel(address));
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
    String address = InProcessGrpc.uniqueName(id);
    NodeServer server =
        new NodeServer(
            id,
            address,
            capacity,
            interval,
            coordinators,
            InProcessServerBuilder.forName(address),
            grpc::channel);
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    grpc.afterTest(server::kill);
    return new TestNode(grpc, id, server, address);
  }
}
