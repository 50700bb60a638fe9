package ftlab.node;

import ftlab.proto.WorkerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker node process, wired: the Worker service with the standard health and reflection
 * services, and the heartbeats to every coordinator.
 */
public final class NodeServer {
  private static final Logger log = LoggerFactory.getLogger("node");

  private final String id;
  private final long incarnation;
  private final Server server;
  private final WorkerService worker;
  private final HeartbeatSender heartbeats;
  private final HealthStatusManager health = new HealthStatusManager();

  /**
   * @param advertisedAddress host:port at which coordinators reach this node
   * @param serverBuilder where to listen (TCP in production, in-process in tests)
   * @param channelFactory how to reach a coordinator's address
   */
  public NodeServer(
      String id,
      String advertisedAddress,
      int capacity,
      Duration heartbeatInterval,
      List<String> coordinators,
      ServerBuilder<?> serverBuilder,
      Function<String, ManagedChannel> channelFactory) {
    this.id = id;
    // The start time identifies this process: a restarted node gets a new, larger incarnation,
    // so coordinators can tell it from late heartbeats of the old process.
    this.incarnation = System.currentTimeMillis();
    this.worker = new WorkerService(id, capacity);
    this.server =
        serverBuilder
            .addService(worker)
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .build();
    this.heartbeats =
        new HeartbeatSender(
            id,
            advertisedAddress,
            incarnation,
            heartbeatInterval,
            worker::inFlight,
            capacity,
            coordinators,
            channelFactory);
  }

  public NodeServer start() throws IOException {
    server.start();
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(WorkerGrpc.SERVICE_NAME, ServingStatus.SERVING);
    heartbeats.start();
    log.info(
        "{} listening on port {} (capacity {}, incarnation {})",
        id,
        server.getPort(),
        worker.capacity(),
        incarnation);
    return this;
  }

  /**
   * The graceful exit (SIGTERM, {@code docker stop}): stop beating, tell the coordinators this node
   * is leaving (LEFT, not a failure), refuse new tasks, let running ones finish within {@code
   * drainTimeout}, then stop.
   */
  public void drain(Duration drainTimeout) throws InterruptedException {
    long start = System.nanoTime();
    log.info("{} draining: {} tasks running", id, worker.inFlight());
    health.enterTerminalState();
    heartbeats.stopBeating();
    heartbeats.leave("shutting down (SIGTERM)", Duration.ofSeconds(1));
    server.shutdown();
    boolean finished = server.awaitTermination(drainTimeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!finished) {
      log.warn(
          "{} drain timeout ({} ms) passed with {} tasks still running: cancelling them",
          id,
          drainTimeout.toMillis(),
          worker.inFlight());
      server.shutdownNow();
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

  public long incarnation() {
    return incarnation;
  }
}
