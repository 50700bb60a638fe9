package ftlab.coordinator;

import com.google.common.base.Suppliers;
import ftlab.clock.Scheduler;
import ftlab.coordinator.dispatch.Dispatcher;
import ftlab.coordinator.dispatch.GrpcNodeCaller;
import ftlab.coordinator.dispatch.Redundancy;
import ftlab.coordinator.limits.RateLimits;
import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.DetectorConfig;
import ftlab.coordinator.membership.MembershipEvent;
import ftlab.coordinator.membership.MembershipLimits;
import ftlab.coordinator.membership.NodeSnapshot;
import ftlab.coordinator.membership.NodeState;
import ftlab.coordinator.membership.QuarantineConfig;
import ftlab.coordinator.picker.NodePicker;
import ftlab.proto.BadRequests;
import ftlab.proto.CoordinatorGrpc;
import ftlab.proto.MembershipGrpc;
import ftlab.proto.RedundancyMode;
import ftlab.security.AuthorizationInterceptor;
import ftlab.security.DefenseScoreboard;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One coordinator process, wired: the gRPC server with the Coordinator and Membership services, the
 * standard health and reflection services, and the timer that runs the failure detector.
 */
public final class CoordinatorServer {
  private static final Logger log = LoggerFactory.getLogger("coordinator");

  private final String id;
  private final Cluster cluster;
  private final GrpcNodeCaller caller;
  private final HealthStatusManager health = new HealthStatusManager();
  private final ScheduledExecutorService detectorTimer;

  /**
   * Runs each attempt's timeout, hedges, and a request's next round of attempts after its pause.
   * Not the detector's thread: a burst of retries must never delay the failure detector.
   */
  private final ScheduledExecutorService dispatchTimers;

  /** Whether {@link #dispatchTimers} is this server's own, to shut down when it stops. */
  private final boolean ownDispatchTimers;

  private final Server server;
  private final Dispatcher dispatcher;
  private final CoordinatorService service;
  private final MembershipService membershipService;

  /** Hear every membership event after the log: metrics, and the dashboard later. */
  private final List<Consumer<MembershipEvent>> membershipListeners = new CopyOnWriteArrayList<>();

  private final long tickNanos;

  /** Plaintext or mutual TLS, and what security refused. */
  private final DefenseScoreboard defenses;

  private final RateLimits rates;

  /**
   * How a connection's local end is judged lost, made afresh at each look: against this host's
   * addresses now; tests stand in for the network.
   */
  private volatile Supplier<Predicate<SocketAddress>> lostEnds = CoordinatorServer::lostOnThisHost;

  /**
   * Lists this host's interfaces once for the look, and only if some connection's end could be lost
   * (none under {@code ftlab local}, whose ends are all loopback).
   */
  private static Predicate<SocketAddress> lostOnThisHost() {
    com.google.common.base.Supplier<OwnAddresses> own = Suppliers.memoize(OwnAddresses::current);
    return local -> OwnAddresses.mayBeLost(local) && own.get().lost(local);
  }

  /**
   * @param serverBuilder where to listen (TCP in production, in-process in tests)
   * @param channelFactory how to reach a node's address
   */
  public CoordinatorServer(
      String id,
      DetectorConfig detector,
      Dispatcher.Settings dispatch,
      ServerBuilder<?> serverBuilder,
      Function<String, ManagedChannel> channelFactory) {
    this(
        id,
        detector,
        dispatch,
        new Redundancy(RedundancyMode.FAILOVER, Redundancy.DEFAULT_REPLICAS),
        MembershipLimits.DEFAULT,
        RateLimits.DEFAULT,
        serverBuilder,
        channelFactory,
        null,
        DefenseScoreboard.plaintext());
  }

  /**
   * @param redundancy the mode for requests that do not choose their own, until an operator changes
   *     it
   * @param limits the membership table's size limit, how long gone nodes stay in it, and how far
   *     ahead of this coordinator's clock an incarnation may be
   * @param rates requests per client connection and heartbeats per node id per connection
   * @param dispatchTimers where the dispatcher's timers run (each attempt's timeout, hedges, the
   *     next round): the event loop that runs the requests, in production, so that scheduling a
   *     timeout from a request's thread wakes no other thread (measured: a timer thread of its own
   *     cost 15-25 µs per request on 2 cores, docs/benchmarks.md); null for a thread of this
   *     server's own. Not shut down by this server when it is not its own.
   * @param defenses plaintext, or mutual TLS with this coordinator's identity: where what security
   *     refuses is counted (the server builder must have TLS and the authorization interceptor
   *     feeding it: {@link CoordinatorMain})
   */
  public CoordinatorServer(
      String id,
      DetectorConfig detector,
      Dispatcher.Settings dispatch,
      Redundancy redundancy,
      MembershipLimits limits,
      RateLimits rates,
      ServerBuilder<?> serverBuilder,
      Function<String, ManagedChannel> channelFactory,
      ScheduledExecutorService dispatchTimers,
      DefenseScoreboard defenses) {
    this.id = id;
    this.defenses = defenses;
    this.rates = rates;
    defenses.listen(
        r -> {
          if (r.log()) {
            log.warn("{}", DefenseScoreboard.logLine(id, r));
          }
        });
    this.caller = new GrpcNodeCaller(channelFactory);
    this.cluster =
        new Cluster(
            detector,
            QuarantineConfig.DEFAULT,
            limits,
            System::nanoTime,
            System::currentTimeMillis,
            this::onEvent);
    // The detector runs 4 times per heartbeat interval: it adds at most a quarter interval
    // (25 ms by default) to the time it takes to notice a silent node.
    this.tickNanos = Math.max(1, detector.intervalNanos() / 4);
    this.detectorTimer = Scheduler.timerThread("failure-detector");
    this.ownDispatchTimers = dispatchTimers == null;
    this.dispatchTimers =
        ownDispatchTimers ? Scheduler.timerThread("dispatch-timers") : dispatchTimers;
    this.dispatcher =
        new Dispatcher(
            id,
            cluster,
            // ThreadLocalRandom must be fetched on the thread that uses it, so not once here
            new NodePicker(() -> ThreadLocalRandom.current().nextLong()),
            caller,
            dispatch,
            Scheduler.of(dispatchTimers));
    dispatcher.setRedundancy(redundancy);
    RateGuard rateGuard = new RateGuard(id, rates, defenses, System::nanoTime);
    this.service = new CoordinatorService(id, cluster, dispatcher, defenses, rateGuard);
    this.membershipService =
        new MembershipService(id, cluster, caller::reconnectIfFailed, defenses, rateGuard);
    this.server =
        serverBuilder
            // ftlab's services answer requests that are not protobuf with INVALID_ARGUMENT; the
            // rate limits key on the caller's address, which plaintext calls get here
            .addService(
                BadRequests.guard(
                    ServerInterceptors.intercept(
                        service, AuthorizationInterceptor.callerAddresses())))
            .addService(
                BadRequests.guard(
                    ServerInterceptors.intercept(
                        membershipService, AuthorizationInterceptor.callerAddresses())))
            .addService(
                BadRequests.guard(
                    ServerInterceptors.intercept(
                        new CoordinatorAdminService(id, dispatcher, cluster, defenses),
                        new AdminAccess())))
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            // and v1alpha: grpcurl builds older than its v1 support (2023) and Postman ask only for
            // it
            .addService(ProtoReflectionService.newInstance())
            .build();
  }

  /**
   * Logs every membership event (refused heartbeats only when the membership says to report them: a
   * flood is one line every 10 s), reconnects at once to a node that has come back (on a fresh
   * connection if it was DEAD or restarted: the old one may be stuck behind a partition's TCP
   * retransmission backoff), and lets go of what it kept for a node that was forgotten.
   */
  private void onEvent(MembershipEvent event) {
    if (event instanceof MembershipEvent.Refused r) {
      if (r.report()) {
        log.warn("{}", event.describe());
      }
    } else {
      log.info("{}", event.describe());
    }
    String comeBack = null;
    boolean afresh = false;
    if (event instanceof MembershipEvent.Transition t && t.to() == NodeState.ALIVE) {
      comeBack = t.nodeId();
      afresh = t.from() == NodeState.DEAD || t.from() == NodeState.LEFT || t.newProcess();
    } else if (event instanceof MembershipEvent.Restarted r) {
      comeBack = r.nodeId();
      afresh = true;
    } else if (event instanceof MembershipEvent.Forgotten f) {
      membershipService.forget(f.nodeId());
      if (cluster.nodes().stream().noneMatch(n -> f.address().equals(n.address()))) {
        caller.forget(f.address()); // unless another node has its address now
      }
      if (dispatcher != null) {
        dispatcher.forgetSpeed(f.nodeId());
      }
    }
    if (comeBack != null) {
      Optional<String> address = cluster.node(comeBack).map(n -> n.address());
      if (address.isPresent() && afresh) {
        caller.connectAfresh(address.get());
      } else {
        address.ifPresent(caller::reconnectNow);
      }
      if (dispatcher != null) { // null only for events during construction
        dispatcher.forgetSpeed(comeBack);
      }
    }
    for (Consumer<MembershipEvent> l : membershipListeners) {
      try {
        l.accept(event);
      } catch (RuntimeException e) {
        log.error("a membership listener failed on: {}", event.describe(), e);
      }
    }
  }

  /**
   * Subscribes {@code listener} to every membership event from now on, in the order they happened,
   * one at a time, outside the cluster's lock. Subscribe before {@link #start} to miss none.
   */
  public void listenMembership(Consumer<MembershipEvent> listener) {
    membershipListeners.add(listener);
  }

  /** Plaintext or mutual TLS, and what security refused since start. */
  public DefenseScoreboard defenses() {
    return defenses;
  }

  public CoordinatorServer start() throws IOException {
    server.start();
    detectorTimer.scheduleAtFixedRate(this::tickSafely, tickNanos, tickNanos, TimeUnit.NANOSECONDS);
    detectorTimer.scheduleWithFixedDelay(
        this::keepAliveNodesConnected, 100, 100, TimeUnit.MILLISECONDS);
    detectorTimer.scheduleWithFixedDelay(this::lookAtOwnAddresses, 1, 1, TimeUnit.SECONDS);
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(CoordinatorGrpc.SERVICE_NAME, ServingStatus.SERVING);
    health.setStatus(MembershipGrpc.SERVICE_NAME, ServingStatus.SERVING);
    log.info(
        "{} listening on port {}; detector: SUSPECT after {} ms, DEAD after {} ms of silence;"
            + " redundancy: {}; security: {}; rate limits: {}, {}; admission: {}",
        id,
        server.getPort(),
        TimeUnit.NANOSECONDS.toMillis(cluster.config().suspectAfterNanos()),
        TimeUnit.NANOSECONDS.toMillis(cluster.config().deadAfterNanos()),
        dispatcher.redundancy().describe(),
        defenses.describe(),
        rates.requests().describe(),
        rates.heartbeats().describe(),
        dispatcher.admission().describe());
    return this;
  }

  /**
   * A node that beats is alive, so this coordinator's connection to it should be up. If an earlier
   * failure left that connection waiting out gRPC's reconnect backoff, reconnect now (checked every
   * 100 ms).
   */
  private void keepAliveNodesConnected() {
    try {
      for (NodeSnapshot n : cluster.nodes()) {
        if (n.state() == NodeState.ALIVE) {
          caller.reconnectIfFailed(n.address());
        }
      }
    } catch (RuntimeException e) {
      log.error("reconnect check failed", e);
    }
  }

  /**
   * Once a second: a connection to a node whose local end is an address this host no longer has
   * (the coordinator was cut off the network and connected again elsewhere) leads nowhere, and
   * gRPC, which sees it READY, would keep it for many minutes: connect to that node afresh ({@link
   * OwnAddresses}; docs/architecture.md, "Heartbeats").
   */
  void lookAtOwnAddresses() {
    try {
      Map<String, SocketAddress> dropped = caller.dropConnectionsFrom(lostEnds.get());
      if (!dropped.isEmpty()) {
        log.info(
            "{}: its connections to {} were from {}, an address this host no longer has (cut off"
                + " the network and connected again elsewhere): connecting to them afresh",
            id,
            String.join(", ", dropped.keySet()),
            dropped.values().stream()
                .map(a -> a instanceof InetSocketAddress i ? i.getHostString() : a.toString())
                .distinct()
                .sorted()
                .collect(Collectors.joining(", ")));
      }
    } catch (RuntimeException e) {
      log.error("the look at the connections' local addresses failed", e);
    }
  }

  /** For tests: judge the connections' local ends with {@code lost} instead of the network. */
  void judgeLocalAddressesWith(Predicate<SocketAddress> lost) {
    lostEnds = () -> lost;
  }

  private void tickSafely() {
    try {
      cluster.tick();
    } catch (RuntimeException e) {
      // a bug must not silently stop the detector: scheduleAtFixedRate cancels on any exception
      log.error("failure detector tick failed", e);
    }
  }

  /** After the last running request ended, how long a stop still lets calls end by themselves. */
  private static final Duration AFTER_LAST_REQUEST = Duration.ofMillis(200);

  /**
   * Stops taking requests, lets running ones finish within {@code grace}, then stops. It waits for
   * requests, not for connections: a frozen peer (a paused node) never closes its connection, and
   * would otherwise hold the coordinator for the whole grace.
   */
  public void stop(Duration grace) throws InterruptedException {
    health.enterTerminalState();
    server.shutdown();
    log.info(
        "{} stopping: takes no new calls; {} request(s) still running, given up to {} ms",
        id,
        dispatcher.requestsRunning(),
        grace.toMillis());
    long deadline = System.nanoTime() + grace.toNanos();
    while (!server.awaitTermination(20, TimeUnit.MILLISECONDS)
        && dispatcher.requestsRunning() > 0
        && System.nanoTime() - deadline < 0) {
      // requests still running: their answers are on the way
    }
    // a moment more for the last answers to leave, and for calls that take no time (heartbeats,
    // views, admin) to end by themselves
    if (!server.awaitTermination(AFTER_LAST_REQUEST.toMillis(), TimeUnit.MILLISECONDS)) {
      if (dispatcher.requestsRunning() > 0) {
        log.info(
            "{}: {} request(s) still running after {} ms: cancelling them",
            id,
            dispatcher.requestsRunning(),
            grace.toMillis());
      }
      server.shutdownNow(); // also closes connections no peer is closing (frozen ones)
    }
    detectorTimer.shutdownNow();
    if (ownDispatchTimers) {
      dispatchTimers.shutdownNow();
    }
    caller.close();
    log.info("{} stopped", id);
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  public int port() {
    return server.getPort();
  }

  public Cluster cluster() {
    return cluster;
  }

  public Dispatcher dispatcher() {
    return dispatcher;
  }

  /** The cluster as this coordinator sees it now: what {@code ftlab status} shows. */
  public ftlab.proto.ClusterView view() {
    return service.view();
  }
}
