package ftlab.coordinator;

import ftlab.clock.Scheduler;
import ftlab.coordinator.dashboard.DashboardFeed;
import ftlab.coordinator.dashboard.DashboardHttp;
import ftlab.coordinator.dispatch.AdmissionLimit;
import ftlab.coordinator.dispatch.Dispatcher;
import ftlab.coordinator.dispatch.ExpectedPeer;
import ftlab.coordinator.dispatch.Redundancy;
import ftlab.coordinator.limits.RateLimits;
import ftlab.coordinator.membership.DetectorConfig;
import ftlab.coordinator.membership.MembershipLimits;
import ftlab.coordinator.metrics.CoordinatorMeters;
import ftlab.metrics.MetricsServer;
import ftlab.metrics.ProcessMetrics;
import ftlab.proto.RedundancyWords;
import ftlab.security.AuthorizationInterceptor;
import ftlab.security.DefenseScoreboard;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingClientInterceptor;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Starts a coordinator. Every option can also be set by the environment variable it names. */
@Command(
    name = "ftlab-coordinator",
    mixinStandardHelpOptions = true,
    description =
        "An ftlab coordinator: tracks nodes by their heartbeats and runs client requests"
            + " on live nodes, failing over when one fails.")
public final class CoordinatorMain implements Callable<Integer> {

  @Option(
      names = "--id",
      defaultValue = "${env:FTLAB_ID:-coordinator-1}",
      description = "This coordinator's name (env FTLAB_ID). Default: ${DEFAULT-VALUE}.")
  String id;

  @Option(
      names = "--port",
      defaultValue = "${env:FTLAB_PORT:-7001}",
      description = "Port to listen on (env FTLAB_PORT). Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(
      names = "--bind",
      defaultValue = "${env:FTLAB_BIND:-0.0.0.0}",
      description = "Address to listen on (env FTLAB_BIND). Default: ${DEFAULT-VALUE}.")
  String bind;

  @Option(
      names = "--http-port",
      defaultValue = "${env:FTLAB_HTTP_PORT:-}",
      description =
          "HTTP port for GET /metrics (Prometheus text) and the dashboard (GET /);"
              + " -1: none, and no meters kept (env FTLAB_HTTP_PORT). Default: --port + 1000.")
  String httpPortSetting;

  @Option(
      names = "--dashboards",
      defaultValue = "${env:FTLAB_DASHBOARDS:-}",
      paramLabel = "ID=URL,...",
      description =
          "Every coordinator's dashboard as a browser reaches it, so that each page links to the"
              + " others and shows what they concluded, e.g."
              + " coordinator-1=http://127.0.0.1:8001,coordinator-2=http://127.0.0.1:8002"
              + " (env FTLAB_DASHBOARDS). Default: none but this one.")
  String dashboardsSetting;

  @Option(
      names = "--heartbeat-interval-ms",
      defaultValue = "${env:FTLAB_HEARTBEAT_INTERVAL_MS:-100}",
      description =
          "How often nodes beat; must match the nodes' setting"
              + " (env FTLAB_HEARTBEAT_INTERVAL_MS). Default: ${DEFAULT-VALUE}.")
  int heartbeatIntervalMs;

  @Option(
      names = "--suspect-after",
      defaultValue = "${env:FTLAB_SUSPECT_AFTER:-3}",
      description =
          "Missed beats before a node is SUSPECT (env FTLAB_SUSPECT_AFTER)."
              + " Default: ${DEFAULT-VALUE}.")
  int suspectAfter;

  @Option(
      names = "--dead-after",
      defaultValue = "${env:FTLAB_DEAD_AFTER:-6}",
      description =
          "Missed beats before a node is DEAD (env FTLAB_DEAD_AFTER)."
              + " Default: ${DEFAULT-VALUE}.")
  int deadAfter;

  @Option(
      names = "--attempt-timeout-ms",
      defaultValue = "${env:FTLAB_ATTEMPT_TIMEOUT_MS:-300}",
      description =
          "Deadline of one attempt on one node, on top of the task's expected duration"
              + " (env FTLAB_ATTEMPT_TIMEOUT_MS). Default: ${DEFAULT-VALUE}.")
  int attemptTimeoutMs;

  @Option(
      names = "--request-timeout-ms",
      defaultValue = "${env:FTLAB_REQUEST_TIMEOUT_MS:-10000}",
      description =
          "Deadline of a request when the client sets none"
              + " (env FTLAB_REQUEST_TIMEOUT_MS). Default: ${DEFAULT-VALUE}.")
  int requestTimeoutMs;

  @Option(
      names = "--io-threads",
      defaultValue = "${env:FTLAB_IO_THREADS:-1}",
      description =
          "Network threads; the coordinator's work per request is small, so one is plenty on a"
              + " laptop (env FTLAB_IO_THREADS). Default: ${DEFAULT-VALUE}.")
  int ioThreads;

  @Option(
      names = "--mode",
      defaultValue = "${env:FTLAB_MODE:-failover}",
      description =
          "Redundancy for requests that do not choose their own: failover, hedged, parallel or vote"
              + " (env FTLAB_MODE); an operator can switch it with 'ftlab mode'."
              + " Default: ${DEFAULT-VALUE}.")
  String mode;

  @Option(
      names = "--replicas",
      defaultValue = "${env:FTLAB_REPLICAS:-3}",
      description =
          "Nodes that get each task at once in parallel and vote modes, whatever the mode it"
              + " starts in: 'ftlab mode vote' and requests that ask for vote or parallel without a"
              + " count get this many (env FTLAB_REPLICAS). Default: ${DEFAULT-VALUE}.")
  int replicas;

  @Option(
      names = "--max-nodes",
      defaultValue = "${env:FTLAB_MAX_NODES:-128}",
      description =
          "Nodes this coordinator tracks at most; a new node id beyond that takes the place of the"
              + " node DEAD or LEFT the longest, or is refused with RESOURCE_EXHAUSTED"
              + " (env FTLAB_MAX_NODES). Default: ${DEFAULT-VALUE}.")
  int maxNodes;

  @Option(
      names = "--forget-after-s",
      defaultValue = "${env:FTLAB_FORGET_AFTER_S:-300}",
      description =
          "Seconds a DEAD or LEFT node stays in the table and in 'ftlab status' before it is"
              + " forgotten (env FTLAB_FORGET_AFTER_S). Default: ${DEFAULT-VALUE}.")
  long forgetAfterSeconds;

  @Option(
      names = "--client-rate-limit",
      defaultValue =
          "${env:FTLAB_CLIENT_RATE_LIMIT:-" + RateLimits.DEFAULT_REQUESTS_PER_SECOND + "}",
      paramLabel = "N",
      description =
          "Requests per second one client connection may send, in bursts of as many; more are"
              + " refused with RESOURCE_EXHAUSTED, and the client tries another coordinator"
              + " (env FTLAB_CLIENT_RATE_LIMIT; 0: no limit). Default: ${DEFAULT-VALUE}.")
  int clientRateLimit;

  @Option(
      names = "--admission-headroom",
      defaultValue = "${env:FTLAB_ADMISSION_HEADROOM:-2}",
      paramLabel = "X",
      description =
          "Requests taken on at once per task slot of the nodes that may get work (per slots of a"
              + " request in parallel and vote modes), at least 4 in all; more are refused at once"
              + " with RESOURCE_EXHAUSTED instead of waiting for a free node (env"
              + " FTLAB_ADMISSION_HEADROOM; 0: no limit). Default: ${DEFAULT-VALUE}.")
  double admissionHeadroom;

  @Option(
      names = "--heartbeat-rate-limit",
      defaultValue =
          "${env:FTLAB_HEARTBEAT_RATE_LIMIT:-" + RateLimits.DEFAULT_HEARTBEATS_PER_SECOND + "}",
      paramLabel = "N",
      description =
          "Heartbeats per second for one node id on one connection (a node beats once per"
              + " interval: 10/s at 100 ms); more are refused with RESOURCE_EXHAUSTED"
              + " (env FTLAB_HEARTBEAT_RATE_LIMIT; 0: no limit). Default: ${DEFAULT-VALUE}.")
  int heartbeatRateLimit;

  @Option(
      names = "--tls-dir",
      defaultValue = "${env:FTLAB_TLS_DIR:-}",
      paramLabel = "DIR",
      description =
          "Mutual TLS on every link: this coordinator's certificate and key (ID.pem, ID.key) and"
              + " the lab's authority (ca.pem) from DIR, made by 'ftlab certs'. Every caller then"
              + " needs a certificate from the same authority, and what it may call depends on"
              + " the role its certificate names (env FTLAB_TLS_DIR). Default: none, plaintext.")
  String tlsDir;

  @Override
  public Integer call() throws Exception {
    if (port < 1 || port > 65535) {
      throw new CommandLine.ParameterException(new CommandLine(this), "port out of range: " + port);
    }
    int httpPort;
    Map<String, String> dashboards;
    try {
      httpPort = MetricsServer.portFor(httpPortSetting, port);
      dashboards = DashboardHttp.parseDashboards(dashboardsSetting);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
    DetectorConfig detector =
        new DetectorConfig(Duration.ofMillis(heartbeatIntervalMs), suspectAfter, deadAfter);
    MembershipLimits limits;
    RateLimits rates;
    try {
      limits =
          new MembershipLimits(
              maxNodes,
              Duration.ofSeconds(forgetAfterSeconds),
              MembershipLimits.DEFAULT.incarnationLeeway());
      rates = RateLimits.of(clientRateLimit, heartbeatRateLimit);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
    Dispatcher.Settings dispatch;
    try {
      dispatch =
          new Dispatcher.Settings(
                  Duration.ofMillis(attemptTimeoutMs),
                  Duration.ofMillis(requestTimeoutMs),
                  Dispatcher.Settings.DEFAULT.roundBackoff())
              .withAdmission(new AdmissionLimit(admissionHeadroom, AdmissionLimit.DEFAULT.floor()));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(
          new CommandLine(this),
          "--admission-headroom (FTLAB_ADMISSION_HEADROOM): " + e.getMessage());
    }
    // One network thread for everything: reading a request, calling the node, reading its answer
    // and replying all happen on it, with no hand-off between threads. Nothing in the coordinator's
    // handlers blocks (dispatch is callbacks all the way), so that is safe.
    EventLoopGroup io = new MultiThreadIoEventLoopGroup(ioThreads, NioIoHandler.newFactory());
    Redundancy redundancy;
    try {
      if (replicas < 2 || replicas > Redundancy.MAX_REPLICAS) {
        throw new IllegalArgumentException(
            "--replicas (FTLAB_REPLICAS) must be between 2 and "
                + Redundancy.MAX_REPLICAS
                + " (vote needs 3), got "
                + replicas);
      }
      redundancy = new Redundancy(RedundancyWords.mode(mode), replicas);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
    TlsFiles tls = null;
    DefenseScoreboard defenses = DefenseScoreboard.plaintext();
    if (!tlsDir.isBlank()) {
      try {
        tls = TlsFiles.read(Path.of(tlsDir), id, Role.COORDINATOR);
        defenses = DefenseScoreboard.of(tls);
      } catch (IOException | IllegalArgumentException e) {
        throw new CommandLine.ParameterException(
            new CommandLine(this), "--tls-dir (FTLAB_TLS_DIR): " + e.getMessage());
      }
    }
    // with no HTTP port nobody can read meters: then none are kept, and nothing is counted
    ProcessMetrics metrics = httpPort < 0 ? null : ProcessMetrics.create("coordinator", id);
    InetSocketAddress listen = new InetSocketAddress(bind, port);
    NettyServerBuilder serverBuilder =
        (tls == null
                ? NettyServerBuilder.forAddress(listen)
                : NettyServerBuilder.forAddress(listen, tls.server(defenses::record)))
            .bossEventLoopGroup(io)
            .workerEventLoopGroup(io)
            .channelType(NioServerSocketChannel.class)
            .directExecutor();
    if (tls != null) {
      // who may call what (added before the meters: the last added sees a call first, so the
      // meters count refused calls too)
      serverBuilder.intercept(new AuthorizationInterceptor(id, defenses));
      serverBuilder.addTransportFilter(defenses.handshakeCounter());
    }
    if (metrics != null) {
      // gRPC's own call meters (grpc_server_*), from Micrometer's binder
      serverBuilder.intercept(new MetricCollectingServerInterceptor(metrics.registry()));
    }
    // a node's port must answer with a node's certificate from the same authority
    ChannelCredentials nodeCredentials = tls == null ? null : tls.channel(Role.NODE);
    Function<String, ManagedChannel> channels =
        address -> {
          NettyChannelBuilder channel =
              (nodeCredentials == null
                      ? NettyChannelBuilder.forTarget(address).usePlaintext()
                      : NettyChannelBuilder.forTarget(address, nodeCredentials))
                  .eventLoopGroup(io)
                  .channelType(NioSocketChannel.class)
                  .directExecutor()
                  // a late failed name lookup must not cut a working link (architecture.md)
                  .defaultLoadBalancingPolicy("round_robin");
          if (nodeCredentials != null) {
            // the node a call is for must be the one whose certificate answers there
            channel.intercept(new ExpectedPeer());
          }
          if (metrics != null) {
            // the calls to nodes (grpc_client_*)
            channel.intercept(new MetricCollectingClientInterceptor(metrics.registry()));
          }
          return channel.build();
        };
    CoordinatorServer server =
        new CoordinatorServer(
            id,
            detector,
            dispatch,
            redundancy,
            limits,
            rates,
            serverBuilder,
            channels,
            // the dispatcher's timers on the same loop: a timeout scheduled by a request wakes
            // no other thread
            io,
            defenses);
    MetricsServer http = null;
    if (metrics != null) {
      CoordinatorMeters meters =
          new CoordinatorMeters(metrics.registry(), server.cluster(), server.dispatcher());
      meters.listenTo(server.dispatcher());
      if (defenses.tls()) {
        meters.countSecurityRefusals();
        meters.countHandshakes(defenses);
      }
      defenses.listen(meters::onRefusal);
      server.listenMembership(meters::onMembership);
      http = MetricsServer.start(bind, httpPort, metrics);
      // the dashboard, on the same port: http://HOST:PORT/
      DashboardFeed feed =
          new DashboardFeed(
              server::view,
              System::currentTimeMillis,
              Scheduler.of(Scheduler.timerThread("dashboard-feed")));
      server.dispatcher().listen(feed);
      server.listenMembership(feed::onMembership);
      http.route(
          "/",
          new DashboardHttp(
              id,
              feed,
              server.cluster(),
              server.dispatcher(),
              channels,
              dashboards,
              // the HTTP port has no login: with TLS, changes need an admin's certificate
              defenses.tls()));
    }
    MetricsServer httpServer = http;
    server.start();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    server.stop(Duration.ofSeconds(5));
                    io.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                    if (httpServer != null) {
                      httpServer.close();
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                },
                "shutdown"));
    server.awaitTermination();
    return 0;
  }

  /**
   * gRPC's own warning, with a stack trace, for a node's name that does not resolve (once a second
   * while a node is cut off): the failed attempts and the transitions say it in one line. Held
   * here: java.util.logging keeps loggers only weakly.
   */
  private static final java.util.logging.Logger GRPC_CHANNEL_LOG =
      java.util.logging.Logger.getLogger("io.grpc.internal.ManagedChannelImpl");

  public static void main(String[] args) {
    // Names are looked up afresh: a member cut off the network and connected again may have
    // another address, and a lookup that failed while it was cut off must not be remembered
    // (the JVM keeps a failure 10 s and an answer 30 s, gRPC's resolver an answer 30 s; a
    // compose soak saw a coordinator's calls to a node fail "Unable to resolve host" for 5 s
    // after the node was back). Set before the first lookup.
    java.security.Security.setProperty("networkaddress.cache.ttl", "1");
    java.security.Security.setProperty("networkaddress.cache.negative.ttl", "0");
    System.setProperty("networkaddress.cache.ttl", "1");
    GRPC_CHANNEL_LOG.setLevel(java.util.logging.Level.SEVERE);
    CommandLine cli = new CommandLine(new CoordinatorMain());
    // bad settings and busy ports are the user's to fix: one sentence, no stack trace
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          cmd.getErr().println("ftlab-coordinator: " + e.getMessage());
          return 2;
        });
    System.exit(cli.execute(args));
  }
}
