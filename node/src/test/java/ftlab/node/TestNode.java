package ftlab.node;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.clock.FakeClock;
import ftlab.node.faults.FaultPlan;
import ftlab.proto.NodeAdminGrpc;
import ftlab.proto.WorkerGrpc;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;

/**
 * A whole node ({@link NodeServer}: Worker and NodeAdmin services, heartbeats) on the in-process
 * transport, and clients for its services. Its coordinators are reached by in-process name.
 *
 * <p>A Crash request does not halt the test JVM: it stops this node at once, without a goodbye
 * ({@link NodeServer#kill}), which is what the coordinators would see of a halted process.
 */
final class TestNode {
  /**
   * Heartbeat interval in these tests, on the node's fake {@link #clock}: a beat is given 2
   * intervals = 40 ms of it to be answered before the node gives up on it.
   */
  static final Duration BEAT = Duration.ofMillis(20);

  /**
   * The node's heartbeat clock. It stands still until the test moves it ({@link #beats}); the first
   * beat goes out at start.
   */
  final FakeClock clock;

  private final Duration interval;

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
      InProcessGrpc grpc,
      String id,
      NodeServer server,
      String address,
      CountDownLatch halted,
      FakeClock clock,
      Duration interval) {
    this.id = id;
    this.clock = clock;
    this.interval = interval;
    this.address = address;
    this.server = server;
    this.blocking = WorkerGrpc.newBlockingStub(grpc.channel(address));
    this.async = WorkerGrpc.newFutureStub(grpc.channel(address));
    this.admin = NodeAdminGrpc.newBlockingStub(grpc.channel(address));
    this.halted = halted;
  }

  /**
   * Moves the node's clock on by {@code n} intervals: {@code n} more beats go out to every
   * coordinator that can take one (and, the calls being direct, are delivered before this returns).
   */
  void beats(int n) {
    for (int i = 0; i < n; i++) {
      clock.advance(interval.toNanos());
    }
  }

  /**
   * Checks that the node has stopped beating for good (a crash, a drain): no next tick is waiting
   * on its clock (a node whose channels are closed could still tick and lose every beat unseen),
   * and none of {@code coords} hears another beat.
   */
  void assertBeatsStopped(FakeCoordinator... coords) {
    assertThat(clock.pendingDelays())
        .as("the next tick on the node's clock")
        .doesNotContain(interval.toNanos());
    assertNoBeatHeardBy(coords);
  }

  /** Checks that 10 intervals pass without {@code coords} hearing a beat. */
  void assertNoBeatHeardBy(FakeCoordinator... coords) {
    int[] before = new int[coords.length];
    for (int i = 0; i < coords.length; i++) {
      before[i] = coords[i].heartbeats().size();
    }
    beats(10);
    for (int i = 0; i < coords.length; i++) {
      assertThat(coords[i].heartbeats()).as("beats to " + coords[i].name()).hasSize(before[i]);
    }
  }

  /**
   * Beats, one interval at a time, until {@code condition} holds: for what the node does not
   * control (a task reaching it on another thread, gRPC reconnecting to a coordinator that was
   * down), so bounded in real time by {@code atMost}.
   */
  void beatUntil(String what, Duration atMost, Callable<Boolean> condition) {
    Awaitility.await(what)
        .atMost(atMost)
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(5))
        .until(
            () -> {
              beats(1);
              return condition.call();
            });
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
    FakeClock clock = new FakeClock();
    AtomicReference<NodeServer> self = new AtomicReference<>();
    NodeServer server =
        new NodeServer(
            id,
            address,
            capacity,
            interval,
            coordinators,
            InProcessServerBuilder.forName(address),
            grpc::directChannel,
            faults,
            () -> {
              self.get().kill();
              halted.countDown();
            },
            clock);
    self.set(server);
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    clock.advance(0); // the first beat, due at start
    grpc.afterTest(server::kill);
    return new TestNode(grpc, id, server, address, halted, clock, interval);
  }
}
