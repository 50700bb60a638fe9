package ftlab.node;

import ftlab.clock.Scheduler;
import ftlab.metrics.MetricsServer;
import ftlab.metrics.ProcessMetrics;
import ftlab.node.faults.FaultPlan;
import ftlab.node.faults.FaultText;
import ftlab.security.AuthorizationInterceptor;
import ftlab.security.DefenseScoreboard;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingClientInterceptor;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Starts a worker node. Every option can also be set by the environment variable it names. */
@Command(
    name = "ftlab-node",
    mixinStandardHelpOptions = true,
    description = "An ftlab worker node: computes tasks and sends heartbeats to coordinators.")
public final class NodeMain implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger("node");

  @Option(
      names = "--id",
      defaultValue = "${env:FTLAB_ID:-node-1}",
      description =
          "This node's name (env FTLAB_ID); {host} is replaced by the host name, and"
              + " {replica} by the number Docker Compose gives this replica of a scaled service"
              + " (pool-{replica}: pool-1, pool-2, ...). Default: ${DEFAULT-VALUE}.")
  String id;

  @Option(
      names = "--port",
      defaultValue = "${env:FTLAB_PORT:-7101}",
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
          "HTTP port for GET /metrics (Prometheus text);"
              + " -1: none, and no meters kept (env FTLAB_HTTP_PORT). Default: --port + 1000.")
  String httpPortSetting;

  @Option(
      names = "--advertise-host",
      defaultValue = "${env:FTLAB_ADVERTISE_HOST}",
      description =
          "Host name or IP at which coordinators reach this node"
              + " (env FTLAB_ADVERTISE_HOST); {ip}: the address this machine's host name has (a"
              + " Swarm task's, whose name is not in DNS until it is healthy). Default: this"
              + " machine's host name.")
  String advertiseHost;

  @Option(
      names = "--coordinators",
      split = ",",
      defaultValue = "${env:FTLAB_COORDINATORS:-127.0.0.1:7001,127.0.0.1:7002}",
      description =
          "Coordinators to send heartbeats to, host:port,host:port"
              + " (env FTLAB_COORDINATORS). Default: ${DEFAULT-VALUE}.")
  List<String> coordinators;

  /*
   * Why 4: the default tasks take about a millisecond of CPU each, and five nodes share a 2-core
   * laptop, so four at a time keeps a node busy without letting it queue work it cannot start;
   * beyond that the coordinator is better off sending the task elsewhere.
   */
  @Option(
      names = "--capacity",
      defaultValue = "${env:FTLAB_CAPACITY:-4}",
      description =
          "Tasks computed at once at most; more are refused with RESOURCE_EXHAUSTED"
              + " (env FTLAB_CAPACITY). Default: ${DEFAULT-VALUE}.")
  int capacity;

  /*
   * Why 100 ms: coordinators declare a node DEAD after 6 x 100 ms = 600 ms without a beat. The
   * last beat left 0-100 ms before a freeze, so the node is DEAD 500-625 ms after it freezes
   * (including up to one 25 ms detector tick), inside the 1 s target. The cost is small: 5 nodes x
   * 2 coordinators x 10 beats/s = 100 tiny RPCs per second for the whole cluster.
   */
  @Option(
      names = "--heartbeat-interval-ms",
      defaultValue = "${env:FTLAB_HEARTBEAT_INTERVAL_MS:-100}",
      description =
          "Time between heartbeats; must match the coordinators' setting"
              + " (env FTLAB_HEARTBEAT_INTERVAL_MS). Default: ${DEFAULT-VALUE}.")
  int heartbeatIntervalMs;

  @Option(
      names = "--drain-timeout-ms",
      defaultValue = "${env:FTLAB_DRAIN_TIMEOUT_MS:-5000}",
      description =
          "On SIGTERM, how long running tasks may take to finish"
              + " (env FTLAB_DRAIN_TIMEOUT_MS). Default: ${DEFAULT-VALUE}.")
  int drainTimeoutMs;

  @Option(
      names = "--faults",
      defaultValue = "${env:FTLAB_FAULTS:-}",
      paramLabel = "FAULTS",
      description =
          "Faults to inject from the start (env FTLAB_FAULTS; empty: none), comma-separated:"
              + " slow:DELAY[+JITTER], error[:CODE], lie, freeze, mute-heartbeats, each but the"
              + " last two with an optional @FRACTION of tasks; e.g. 'slow:200ms+50ms@10%%,lie@30%%'."
              + " Change them later with 'ftlab chaos'.")
  String faults;

  @Option(
      names = "--tls-dir",
      defaultValue = "${env:FTLAB_TLS_DIR:-}",
      paramLabel = "DIR",
      description =
          "Mutual TLS on every link: this node's certificate and key (ID.pem, ID.key) and the"
              + " lab's authority (ca.pem) from DIR, made by 'ftlab certs'. Its heartbeats then"
              + " go only to coordinators with a certificate from the same authority, and only"
              + " coordinators may ask it to compute, only admins change its faults"
              + " (env FTLAB_TLS_DIR). {id} stands for the node's id, e.g. /certs/{id} for the"
              + " replicas of a scaled service, each in its folder from 'ftlab certs --split'."
              + " Default: none, plaintext.")
  String tlsDir;

  @Option(
      names = "--tls-as",
      defaultValue = "${env:FTLAB_TLS_AS:-}",
      paramLabel = "NAME",
      description =
          "With --tls-dir: present NAME's certificate instead of this node's own. Only for the"
              + " rogue lab (docs/security.md): coordinators refuse a node whose certificate is"
              + " another node's (identity) or not a node's (authorization)"
              + " (env FTLAB_TLS_AS). Default: the node's id.")
  String tlsAs;

  @Override
  public Integer call() throws Exception {
    FaultPlan initialFaults;
    try {
      initialFaults = FaultText.parse(faults);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bad --faults (env FTLAB_FAULTS): " + e.getMessage(), e);
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    int httpPort = MetricsServer.portFor(httpPortSetting, port);
    if (heartbeatIntervalMs < 1) {
      throw new IllegalArgumentException(
          "heartbeat interval must be at least 1 ms, got " + heartbeatIntervalMs);
    }
    for (String c : coordinators) {
      if (!c.matches("[^:\\s]+:\\d{1,5}")) {
        throw new IllegalArgumentException(
            "coordinator address must be host:port, got '" + c + "'");
      }
      int p = Integer.parseInt(c.substring(c.lastIndexOf(':') + 1));
      if (p < 1 || p > 65535) {
        throw new IllegalArgumentException("port out of range in coordinator '" + c + "': " + p);
      }
    }
    String host = advertised(advertiseHost);
    id = id.replace("{host}", localHostName());
    if (id.contains("{replica}")) {
      try {
        id = id.replace("{replica}", Integer.toString(ComposeReplica.ofThisContainer()));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            "node id '"
                + id
                + "': {replica} is the number Docker Compose gives this container (pool-2 in"
                + " ftlab-pool-2), but "
                + e.getMessage()
                + "; outside Compose, use {host} or a name of your own",
            e);
      }
    }
    if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      // as the coordinators check it (NodeIds): they would refuse every heartbeat otherwise
      throw new IllegalArgumentException(
          "node id must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or a"
              + " digit, got '"
              + id
              + "'");
    }
    tlsDir = tlsDir.replace("{id}", id); // a folder per replica of a scaled service
    TlsFiles tls = null;
    DefenseScoreboard defenses = DefenseScoreboard.plaintext();
    if (tlsDir.isBlank() && !tlsAs.isBlank()) {
      throw new IllegalArgumentException(
          "--tls-as (FTLAB_TLS_AS) needs --tls-dir (FTLAB_TLS_DIR): without TLS there is no"
              + " certificate to show");
    }
    if (!tlsDir.isBlank()) {
      if (!tlsAs.isBlank() && !tlsAs.equals(id)) {
        log.warn(
            "{} shows {}'s certificate (--tls-as): coordinators will refuse its heartbeats (the"
                + " rogue lab, docs/security.md)",
            id,
            tlsAs);
      }
      try {
        tls =
            tlsAs.isBlank()
                ? TlsFiles.read(Path.of(tlsDir), id, Role.NODE)
                : TlsFiles.read(Path.of(tlsDir), tlsAs); // any role: the rogue lab's
        defenses = DefenseScoreboard.of(tls);
      } catch (IOException e) {
        throw new IllegalArgumentException("--tls-dir (FTLAB_TLS_DIR): " + e.getMessage(), e);
      }
    }
    // with no HTTP port nobody can read meters: then none are kept, and nothing is counted
    ProcessMetrics metrics = httpPort < 0 ? null : ProcessMetrics.create("node", id);
    InetSocketAddress listen = new InetSocketAddress(bind, port);
    NettyServerBuilder serverBuilder =
        tls == null
            ? NettyServerBuilder.forAddress(listen)
            : NettyServerBuilder.forAddress(listen, tls.server(defenses::record));
    if (tls != null) {
      // only coordinators compute, only admins change faults (before the meters: they then count
      // refused calls too)
      serverBuilder.intercept(new AuthorizationInterceptor(id, defenses));
      serverBuilder.addTransportFilter(defenses.handshakeCounter());
      defenses.listen(
          r -> {
            if (r.log()) {
              log.warn("{}", DefenseScoreboard.logLine(id, r));
            }
          });
      if (metrics != null) {
        java.util.function.Function<String, Counter> refused =
            layer ->
                Counter.builder("ftlab.security.refused")
                    .description(
                        "Calls security refused, by the layer that caught them: handshake (a"
                            + " certificate not from the lab's authority, none, or plaintext),"
                            + " authorization (a role calling what it may not), revocation")
                    .tag("layer", layer)
                    .register(metrics.registry());
        refused.apply("authorization"); // shown from 0
        io.micrometer.core.instrument.FunctionCounter.builder(
                "ftlab.tls.handshakes", defenses, DefenseScoreboard::handshakes)
            .description(
                "Connections that completed a TLS handshake with this node's gRPC port: one per"
                    + " new link, since gRPC keeps connections open")
            .register(metrics.registry());
        defenses.listen(r -> refused.apply(r.refusal().layer().word()).increment());
      }
    }
    boolean mutualTls = tls != null;
    // a coordinator's port must answer with a coordinator's certificate from the same authority
    ChannelCredentials coordinatorCredentials =
        tls == null ? InsecureChannelCredentials.create() : tls.channel(Role.COORDINATOR);
    if (metrics != null) {
      // gRPC's own call meters (grpc_server_*), from Micrometer's binder
      serverBuilder.intercept(new MetricCollectingServerInterceptor(metrics.registry()));
    }
    NodeServer node =
        new NodeServer(
            id,
            // an IPv6 literal in brackets, as HOST:PORT needs it
            (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port,
            capacity,
            Duration.ofMillis(heartbeatIntervalMs),
            coordinators,
            serverBuilder,
            address -> {
              var channel =
                  Grpc.newChannelBuilder(address, coordinatorCredentials)
                      // a late failed name lookup must not cut a working link (architecture.md)
                      .defaultLoadBalancingPolicy("round_robin");
              if (mutualTls) {
                // a reply's coordinator is the one its certificate names (RevocationsHeard)
                channel.intercept(new CoordinatorNameFromCertificate());
              }
              if (metrics != null) {
                // the heartbeats to coordinators (grpc_client_*)
                channel.intercept(new MetricCollectingClientInterceptor(metrics.registry()));
              }
              return channel.build();
            },
            initialFaults,
            NodeAdminService.HALT,
            // the next heartbeat, the end of a task's wait: short work, on one thread
            Scheduler.of(Scheduler.timerThread("node-timer")));
    MetricsServer http = null;
    if (metrics != null) {
      node.listenTasks(new NodeMeters(metrics.registry(), node));
      http = MetricsServer.start(bind, httpPort, metrics);
    }
    MetricsServer httpServer = http;
    if (tls != null) {
      node.listenHeartbeatReplies(new RevocationsHeard(id, defenses.revocations(), tls.dir()));
    }
    node.start();
    log.info("{} security: {}", id, defenses.describe());
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    node.drain(Duration.ofMillis(drainTimeoutMs));
                    if (httpServer != null) {
                      httpServer.close();
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                },
                "drain"));
    node.awaitTermination();
    return 0;
  }

  /**
   * The address coordinators are told: the setting, this machine's host name when there is none, or
   * for {@code {ip}} the address of that name ({@code /etc/hosts} in a container: its address on
   * its first network).
   */
  static String advertised(String setting) {
    if (setting == null || setting.isBlank()) {
      return localHostName();
    }
    if (!setting.equals("{ip}")) {
      return setting;
    }
    try {
      InetAddress own = InetAddress.getLocalHost();
      if (own.isLoopbackAddress()) {
        log.warn(
            "--advertise-host {ip}: this machine's host name has the loopback address {}: only"
                + " coordinators on this machine can reach this node there",
            own.getHostAddress());
      }
      return own.getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(
          "--advertise-host {ip} (FTLAB_ADVERTISE_HOST): this machine's host name has no address: "
              + e.getMessage(),
          e);
    }
  }

  private static String localHostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "127.0.0.1";
    }
  }

  /**
   * gRPC's own warning, with a stack trace, for a coordinator's name that does not resolve (once a
   * second while a partition lasts): the heartbeat log says it in one line. Held here:
   * java.util.logging keeps loggers only weakly.
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
    System.exit(commandLine().execute(args));
  }

  /** The command line, with its error handling: exit code 2 and one sentence for bad settings. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new NodeMain());
    // bad settings and busy ports are the user's to fix: one sentence, no stack trace
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          cmd.getErr().println("ftlab-node: " + e.getMessage());
          return 2;
        });
    return cli;
  }
}
