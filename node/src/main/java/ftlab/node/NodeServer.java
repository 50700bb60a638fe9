package ftlab.node;

import ftlab.clock.Scheduler;
import ftlab.node.faults.FaultPlan;
import ftlab.node.faults.NodeFaults;
import ftlab.proto.BadRequests;
import ftlab.proto.NodeAdminGrpc;
import ftlab.proto.WorkerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker node process, wired: the Worker service, the NodeAdmin service (fault injection,
 * behind {@link AdminAccess}) with the standard health and reflection services, and the heartbeats
 * to every coordinator.
 */
public final class NodeServer {
  private static final Logger log = LoggerFactory.getLogger("node");

  /**
   * Once the drain timeout has passed, how long the node waits for its stopped tasks to send their
   * answers before it cuts the connections. Stopped tasks answer at once (an echo wakes up, a prime
   * count stops within one segment of 65,536 numbers), so this is only a backstop.
   */
  private static final Duration STOPPED_TASKS_GRACE = Duration.ofMillis(500);

  private final String id;
  private final long incarnation;
  private final Server server;
  private final WorkerService worker;
  private final NodeFaults faults;
  private final HeartbeatSender heartbeats;
  private final HealthStatusManager health = new HealthStatusManager();

  /**
   * @param advertisedAddress host:port at which coordinators reach this node
   * @param serverBuilder where to listen (TCP in production, in-process in tests)
   * @param channelFactory how to reach a coordinator's address
   * @param initialFaults the faults in force from the start (--faults, FTLAB_FAULTS)
   * @param halt ends the process on a Crash request: {@code Runtime.halt(137)} in production; tests
   *     pass something that only stops this node
   * @param clock the node's time (its heartbeats, its tasks' waits): a real timer in production
   *     ({@link Scheduler#of}), a fake clock in tests
   */
  public NodeServer(
      String id,
      String advertisedAddress,
      int capacity,
      Duration heartbeatInterval,
      List<String> coordinators,
      ServerBuilder<?> serverBuilder,
      Function<String, ManagedChannel> channelFactory,
      FaultPlan initialFaults,
      Runnable halt,
      Scheduler clock) {
    this.id = id;
    // The start time identifies this process: a restarted node gets a new, larger incarnation,
    // so coordinators can tell it from late heartbeats of the old process.
    this.incarnation = System.currentTimeMillis();
    this.faults = new NodeFaults(id, initialFaults);
    // ThreadLocalRandom must be fetched on the thread that uses it, so not once here
    this.worker = new WorkerService(id, capacity, faults, ThreadLocalRandom::current, clock);
    this.server =
        serverBuilder
            // ftlab's services answer requests that are not protobuf with INVALID_ARGUMENT
            .addService(BadRequests.guard(worker.bindService()))
            .addService(
                BadRequests.guard(
                    ServerInterceptors.intercept(
                        new NodeAdminService(id, faults, halt), new AdminAccess())))
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            // and v1alpha: grpcurl builds older than its v1 support (2023) and Postman ask only for
            // it
            .addService(ProtoReflectionService.newInstance())
            .build();
    this.heartbeats =
        new HeartbeatSender(
            id,
            advertisedAddress,
            incarnation,
            heartbeatInterval,
            worker::inFlight,
            capacity,
            faults::current,
            coordinators,
            channelFactory,
            clock);
  }

  /** Its heartbeats (tests reach into them). */
  HeartbeatSender heartbeats() {
    return heartbeats;
  }

  public NodeServer start() throws IOException {
    server.start();
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(WorkerGrpc.SERVICE_NAME, ServingStatus.SERVING);
    health.setStatus(NodeAdminGrpc.SERVICE_NAME, ServingStatus.SERVING);
    heartbeats.start();
    log.info(
        "{} listening on port {} (capacity {}, incarnation {})",
        id,
        server.getPort(),
        worker.capacity(),
        incarnation);
    if (!faults.current().isHealthy()) {
      log.info("{} starts with injected faults: {}", id, faults.current().describe());
    }
    return this;
  }

  /**
   * The graceful exit (SIGTERM, {@code docker stop}): refuse new tasks, tell the coordinators this
   * node is leaving (LEFT, not a failure), stop beating, let running tasks finish within {@code
   * drainTimeout}, stop those that do not (they answer UNAVAILABLE, so their callers retry them
   * elsewhere), then stop.
   */
  public void drain(Duration drainTimeout) throws InterruptedException {
    long start = System.nanoTime();
    log.info("{} draining: {} tasks running", id, worker.inFlight());
    // First of all: saying goodbye can take up to a second, and a task accepted meanwhile would
    // only make the drain longer.
    worker.stopAccepting();
    health.enterTerminalState();
    // The goodbye before the beats stop, not after: stopped beats and a slow goodbye would leave a
    // silence the detector counts (SUSPECT before LEFT). Beats that arrive within 2 s after the
    // goodbye are ignored; later ones would bring the node back (Membership.GOODBYE_GRACE).
    heartbeats.leave("shutting down (SIGTERM)", Duration.ofSeconds(1));
    heartbeats.stopBeating();
    server.shutdown();
    boolean finished = server.awaitTermination(drainTimeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!finished) {
      log.warn(
          "{} drain timeout ({} ms) passed with {} tasks still running: stopping them",
          id,
          drainTimeout.toMillis(),
          worker.inFlight());
      worker.stopRunningTasks();
      if (!server.awaitTermination(STOPPED_TASKS_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        server.shutdownNow();
      }
    }
    heartbeats.close();
    log.info(
        "{} stopped after draining for {} ms",
        id,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  /** Stops at once, without a goodbye (for tests that simulate a crash in-process). */
  public void kill() {
    heartbeats.close();
    server.shutdownNow();
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  public int port() {
    return server.getPort();
  }

  /**
   * Subscribes {@code listener} to every coordinator's heartbeat replies from now on (the names it
   * revokes), on gRPC's thread: keep it short.
   */
  public void listenHeartbeatReplies(java.util.function.Consumer<ftlab.proto.HeartbeatReply> l) {
    heartbeats.listenReplies(l);
  }

  /** Subscribes {@code listener} to how every task ends from now on (metrics). */
  public void listenTasks(TaskListener listener) {
    worker.listen(listener);
  }

  /** Tasks running right now. */
  public int tasksRunning() {
    return worker.inFlight();
  }

  public int capacity() {
    return worker.capacity();
  }

  /** The faults in force now. */
  public FaultPlan faults() {
    return faults.current();
  }

  public long incarnation() {
    return incarnation;
  }
}
