package ftlab.bench;

import ftlab.client.Coordinators;
import ftlab.client.local.Jars;
import ftlab.client.local.LocalCluster;
import ftlab.client.local.LocalLayout;
import ftlab.proto.ComputeRequest;
import ftlab.proto.Echo;
import ftlab.proto.SubmitRequest;
import ftlab.proto.Task;
import ftlab.proto.WorkerGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What a coordinator costs: the same trivial task (echo, no delay) sent straight to a node and sent
 * through a coordinator, in alternating blocks so that both see the same machine noise.
 */
@Command(
    name = "overhead",
    mixinStandardHelpOptions = true,
    description = {
      "Measure the coordinator's overhead: p50/p99 latency and throughput of a trivial task sent"
          + " through a coordinator vs straight to a node, as ratios from the same run.",
      "Starts its own cluster (1 coordinator, 1 node) on free loopback ports and stops it after."
    })
public final class OverheadBench implements Callable<Integer> {

  @Option(
      names = "--requests",
      defaultValue = "20000",
      description = "Measured requests per path. Default: ${DEFAULT-VALUE}.")
  int requests;

  @Option(
      names = "--warmup",
      defaultValue = "5000",
      description = "Unmeasured requests per path first, for the JIT. Default: ${DEFAULT-VALUE}.")
  int warmup;

  @Option(
      names = "--concurrency",
      defaultValue = "4",
      description = "Requests in flight. Default: ${DEFAULT-VALUE}.")
  int concurrency;

  @Option(
      names = "--block",
      defaultValue = "1000",
      description =
          "Requests per block; the paths alternate block by block. Default: ${DEFAULT-VALUE}.")
  int block;

  private static final Task TRIVIAL =
      Task.newBuilder().setEcho(Echo.newBuilder().setDelayMs(0).setValue("x")).build();

  /** One way of sending the trivial task. */
  private interface Path {
    void send();
  }

  @Option(
      names = "--compare-metrics",
      description =
          "Also start a second cluster whose processes keep no meters (--http-port -1), and"
              + " measure both in the same run: what metrics cost.")
  boolean compareMetrics;

  @Option(
      names = "--compare-tls",
      description =
          "Also start a second cluster with mutual TLS on every link (ftlab local up --tls), and"
              + " measure both in the same run: what mutual TLS costs per call, and what a new"
              + " connection's handshake costs.")
  boolean compareTls;

  @Option(
      names = "--compare-limits",
      description =
          "Also start a second cluster whose coordinator keeps its per-client rate limit on (at"
              + " 1000000 requests/s, so that every call takes a token and none is refused), and"
              + " measure both in the same run: what the rate limiter costs per call.")
  boolean compareLimits;

  @Option(
      names = "--bare-hop",
      description =
          "Also send every request through a bare gRPC hop (BareHop: a process that only"
              + " forwards the call to the node, set up as the coordinator's network is): what one"
              + " more process in the path costs on this machine, apart from the coordinator's own"
              + " work. Plaintext only.")
  boolean bareHop;

  @Option(
      names = "--connections",
      defaultValue = "200",
      description =
          "With --compare-tls: new connections opened per cluster (each: connect, handshake, one"
              + " call), alternating. Default: ${DEFAULT-VALUE}.")
  int connections;

  /** A cluster of 1 coordinator and 1 node, and the two ways of sending it the trivial task. */
  private static final class Target implements AutoCloseable {
    final String name;
    final LocalCluster cluster;
    final ManagedChannel nodeChannel;
    final Coordinators coordinator;
    final Path direct;
    final Path viaCoordinator;
    final Recorder inside = new Recorder(3);
    final Recorder directLatency = new Recorder(3);
    final Recorder coordinatorLatency = new Recorder(3);
    long directNanos;
    long coordinatorNanos;

    /** With --bare-hop: the hop's process, the path through it and its latencies. */
    Process hopProcess;

    ManagedChannel hopChannel;
    Path viaHop;
    final Recorder hopInside = new Recorder(3);
    final Recorder hopLatency = new Recorder(3);
    long hopNanos;

    /** Starts a {@link BareHop} in front of the node, as a process of its own. */
    void startBareHop(int nodePort) throws Exception {
      int port = LocalLayout.freePortBlock(1);
      List<String> cmd = new ArrayList<>();
      cmd.add(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString());
      // the JVM flags of every local member (LocalCluster), so that only the work differs
      cmd.addAll(List.of("-XX:+UseSerialGC", "-Xms16m", "-Xmx128m"));
      cmd.addAll(
          List.of(
              "-cp",
              System.getProperty("java.class.path"),
              BareHop.class.getName(),
              Integer.toString(port),
              "127.0.0.1:" + nodePort));
      hopProcess = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      java.io.BufferedReader out =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(
                  hopProcess.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
      java.util.concurrent.CompletableFuture<String> line =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try {
                  return out.readLine();
                } catch (java.io.IOException e) {
                  return null;
                }
              });
      String said = line.get(30, TimeUnit.SECONDS);
      if (!"listening".equals(said)) {
        hopProcess.destroyForcibly();
        throw new IllegalStateException("the bare hop did not start (it said: " + said + ")");
      }
      System.err.println("bare hop (" + name + ") on 127.0.0.1:" + port);
      hopChannel =
          Grpc.newChannelBuilder("127.0.0.1:" + port, InsecureChannelCredentials.create()).build();
      ftlab.proto.CoordinatorGrpc.CoordinatorBlockingStub hop =
          ftlab.proto.CoordinatorGrpc.newBlockingStub(hopChannel);
      SubmitRequest submit = SubmitRequest.newBuilder().setRequestId("h").setTask(TRIVIAL).build();
      viaHop =
          () ->
              hopInside.recordValue(
                  Math.max(
                      1,
                      hop.withDeadlineAfter(5, TimeUnit.SECONDS)
                          .submit(submit)
                          .getCoordinatorMicros()));
    }

    /** New connections: connect, handshake and one call, each on a channel of its own. */
    final Recorder connectLatency = new Recorder(3);

    final io.grpc.ChannelCredentials toCoordinator;
    final int nodePort;

    Target(String name, LocalLayout layout) throws Exception {
      this(name, layout, false);
    }

    Target(String name, LocalLayout layout, boolean tls) throws Exception {
      // it measures the coordinator at full speed: its per-client limit would cap that
      this(name, layout, tls, "0");
    }

    /** With {@code clientRateLimit} as the coordinator's --client-rate-limit. */
    Target(String name, LocalLayout layout, boolean tls, String clientRateLimit) throws Exception {
      this.name = name;
      this.cluster =
          new LocalCluster(Files.createTempDirectory("ftlab-bench-overhead-"), Jars.locate())
              .coordinatorOptions("--client-rate-limit", clientRateLimit);
      System.err.println(
          "starting 1 coordinator and 1 node (" + name + ") in " + cluster.stateDir());
      cluster.up(layout, tls, Duration.ofSeconds(90), System.err::println);
      this.nodePort = layout.nodeBasePort();
      // straight to the node: with TLS, only a coordinator's certificate may ask it to compute
      this.nodeChannel =
          Grpc.newChannelBuilder(
                  "127.0.0.1:" + layout.nodeBasePort(),
                  tls
                      ? ftlab.security.TlsFiles.read(
                              cluster.tlsFolder(),
                              layout.coordinatorName(1),
                              ftlab.security.Role.COORDINATOR)
                          .channel(ftlab.security.Role.NODE)
                      : InsecureChannelCredentials.create())
              .build();
      this.toCoordinator = cluster.credentials("client");
      this.coordinator = new Coordinators(layout.coordinatorAddresses(), toCoordinator);
      WorkerGrpc.WorkerBlockingStub node = WorkerGrpc.newBlockingStub(nodeChannel);
      ComputeRequest directRequest =
          ComputeRequest.newBuilder().setRequestId("b").setTask(TRIVIAL).build();
      SubmitRequest submit = SubmitRequest.newBuilder().setRequestId("b").setTask(TRIVIAL).build();
      this.direct = () -> node.withDeadlineAfter(5, TimeUnit.SECONDS).compute(directRequest);
      this.viaCoordinator =
          () ->
              inside.recordValue(
                  Math.max(
                      1,
                      coordinator
                          .stub(0)
                          .withDeadlineAfter(5, TimeUnit.SECONDS)
                          .submit(submit)
                          .getCoordinatorMicros()));
    }

    /** TLS handshakes the coordinator completed so far (0 in plaintext). */
    long handshakes() {
      return coordinator
          .stub(0)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .getCluster(ftlab.proto.GetClusterRequest.getDefaultInstance())
          .getSecurity()
          .getHandshakes();
    }

    /** Handshakes at the coordinator during the measured calls, and during the new connections. */
    long measuredHandshakes;

    long connectHandshakes;

    @Override
    public void close() throws InterruptedException {
      if (hopChannel != null) {
        hopChannel.shutdownNow();
      }
      if (hopProcess != null) {
        hopProcess.destroy();
        if (!hopProcess.waitFor(5, TimeUnit.SECONDS)) {
          hopProcess.destroyForcibly();
        }
      }
      coordinator.close();
      nodeChannel.shutdownNow();
      cluster.down(Duration.ofSeconds(10), line -> {});
      cluster.deleteState();
    }
  }

  @Override
  public Integer call() throws Exception {
    if ((compareTls ? 1 : 0) + (compareMetrics ? 1 : 0) + (compareLimits ? 1 : 0) > 1) {
      throw new IllegalArgumentException(
          "--compare-tls, --compare-metrics and --compare-limits: one at a time");
    }
    if (bareHop && compareTls) {
      throw new IllegalArgumentException(
          "--bare-hop is plaintext only: under mutual TLS only a coordinator may call a node");
    }
    if (connections < 1 || connections > 100_000) {
      throw new IllegalArgumentException("--connections must be 1-100000, got " + connections);
    }
    if (requests < block || block < 1 || concurrency < 1 || warmup < 0) {
      throw new IllegalArgumentException(
          "need --requests >= --block >= 1, --concurrency >= 1 and --warmup >= 0, got --requests "
              + requests
              + " --block "
              + block
              + " --concurrency "
              + concurrency
              + " --warmup "
              + warmup);
    }
    List<Target> targets = new ArrayList<>();
    try {
      int capacity = Math.max(16, concurrency * 2);
      targets.add(
          new Target(
              compareTls ? "plaintext" : compareLimits ? "rate limit off" : "metrics on",
              LocalLayout.onFreePorts(1, 1, capacity)));
      if (compareLimits) {
        targets.add(
            new Target("rate limit on", LocalLayout.onFreePorts(1, 1, capacity), false, "1000000"));
      }
      if (compareTls) {
        targets.add(new Target("mutual TLS", LocalLayout.onFreePorts(1, 1, capacity), true));
      }
      if (compareMetrics) {
        targets.add(
            new Target("metrics off", LocalLayout.onFreePorts(1, 1, capacity).withoutMetrics()));
      }
      if (bareHop) {
        for (Target t : targets) {
          t.startBareHop(t.nodePort);
        }
      }
      System.err.printf("warming up: %d requests per path%n", warmup);
      for (Target t : targets) {
        run(t.direct, warmup, new Recorder(3));
        run(t.viaCoordinator, warmup, new Recorder(3));
        t.inside.reset();
        if (t.viaHop != null) {
          run(t.viaHop, warmup, new Recorder(3));
          t.hopInside.reset();
        }
      }
      for (Target t : targets) {
        t.measuredHandshakes = -t.handshakes();
      }
      for (int done = 0; done < requests; done += block) {
        // every other block the other way round: no cluster always goes first (JIT, caches and
        // the machine's other work would favour one place in the order)
        List<Target> order = new ArrayList<>(targets);
        if ((done / block) % 2 == 1) {
          java.util.Collections.reverse(order);
        }
        for (Target t : order) {
          t.directNanos += run(t.direct, block, t.directLatency);
          boolean hopFirst = t.viaHop != null && (done / block) % 2 == 1; // the hop's turn first
          if (hopFirst) {
            t.hopNanos += run(t.viaHop, block, t.hopLatency);
          }
          t.coordinatorNanos += run(t.viaCoordinator, block, t.coordinatorLatency);
          if (t.viaHop != null && !hopFirst) {
            t.hopNanos += run(t.viaHop, block, t.hopLatency);
          }
        }
        System.err.printf("  %d / %d per path%n", done + block, requests);
      }
      for (Target t : targets) {
        t.measuredHandshakes += t.handshakes();
      }
      if (compareTls) {
        System.err.printf("new connections: %d per cluster%n", connections);
        for (Target t : targets) {
          t.connectHandshakes = -t.handshakes();
        }
        for (int i = 0; i < connections; i++) {
          for (Target t : targets) {
            connectOnce(t);
          }
        }
        for (Target t : targets) {
          t.connectHandshakes += t.handshakes();
        }
      }
      report(targets);
      return 0;
    } finally {
      for (Target t : targets) {
        t.close();
      }
    }
  }

  private void report(List<Target> targets) {
    System.out.printf(
        "Coordinator overhead: trivial task (echo, 0 ms), %d requests per path, %d in flight,"
            + " alternating blocks of %d%n%n",
        requests, concurrency, block);
    System.out.println("| path | p50 ms | p99 ms | throughput req/s |");
    System.out.println("|---|---:|---:|---:|");
    List<Histogram> viaCoordinator = new ArrayList<>();
    List<Double> viaThroughput = new ArrayList<>();
    for (Target t : targets) {
      Histogram d = t.directLatency.getIntervalHistogram();
      Histogram c = t.coordinatorLatency.getIntervalHistogram();
      double dThroughput = d.getTotalCount() / (t.directNanos / 1e9);
      double cThroughput = c.getTotalCount() / (t.coordinatorNanos / 1e9);
      String suffix = targets.size() > 1 ? ", " + t.name : "";
      System.out.println(row("client -> node (direct)" + suffix, d, dThroughput));
      System.out.println(row("client -> coordinator -> node" + suffix, c, cThroughput));
      System.out.println(
          pathRatio("coordinator / direct" + suffix, c, cThroughput, d, dThroughput));
      if (t.viaHop != null) {
        Histogram h = t.hopLatency.getIntervalHistogram();
        double hThroughput = h.getTotalCount() / (t.hopNanos / 1e9);
        System.out.println(row("client -> bare gRPC hop -> node" + suffix, h, hThroughput));
        System.out.println(pathRatio("bare hop / direct" + suffix, h, hThroughput, d, dThroughput));
        System.out.println(
            pathRatio("coordinator / bare hop" + suffix, c, cThroughput, h, hThroughput));
      }
      viaCoordinator.add(c);
      viaThroughput.add(cThroughput);
    }
    if (compareTls) {
      System.out.println(ratio("mutual TLS / plaintext", 1, 0, viaCoordinator, viaThroughput));
      System.out.printf(
          "%nA new connection to the coordinator (connect, handshake, one call), %d each:%n%n",
          connections);
      System.out.println("| cluster | p50 ms | p99 ms |");
      System.out.println("|---|---:|---:|");
      for (Target t : targets) {
        Histogram h = t.connectLatency.getIntervalHistogram();
        System.out.printf(
            Locale.ROOT,
            "| %s | %.3f | %.3f |%n",
            t.name,
            h.getValueAtPercentile(50) / 1000.0,
            h.getValueAtPercentile(99) / 1000.0);
      }
      Target secure = targets.get(1);
      System.out.printf(
          "%nTLS handshakes the coordinator counted (ftlab_tls_handshakes_total): %d during the %d"
              + " measured calls through it (connections are kept: a handshake per call would be"
              + " %d), %d during the %d new connections.%n",
          secure.measuredHandshakes, requests, requests, secure.connectHandshakes, connections);
    } else if (compareLimits) {
      System.out.println(ratio("rate limit on / off", 1, 0, viaCoordinator, viaThroughput));
    } else if (targets.size() > 1) {
      System.out.println(ratio("metrics on / off", 0, 1, viaCoordinator, viaThroughput));
    }
    for (Target t : targets) {
      Histogram in = t.inside.getIntervalHistogram();
      System.out.printf(
          Locale.ROOT,
          "%nOf the coordinator path%s, time inside the coordinator (from its receiving the request"
              + " to its answer, its own call to the node included): p50 %.3f ms, p99 %.3f ms.%n",
          targets.size() > 1 ? " (" + t.name + ")" : "",
          in.getValueAtPercentile(50) / 1000.0,
          in.getValueAtPercentile(99) / 1000.0);
      if (t.viaHop != null) {
        Histogram hop = t.hopInside.getIntervalHistogram();
        System.out.printf(
            Locale.ROOT,
            "Of the bare hop's path%s, time inside the hop (the same span): p50 %.3f ms, p99 %.3f"
                + " ms.%n",
            targets.size() > 1 ? " (" + t.name + ")" : "",
            hop.getValueAtPercentile(50) / 1000.0,
            hop.getValueAtPercentile(99) / 1000.0);
      }
    }
  }

  /** Opens a channel to the coordinator, makes one call on it, closes it: a connection's cost. */
  private static void connectOnce(Target t) throws InterruptedException {
    SubmitRequest submit = SubmitRequest.newBuilder().setRequestId("c").setTask(TRIVIAL).build();
    long s = System.nanoTime();
    ManagedChannel channel =
        Grpc.newChannelBuilder(t.cluster.coordinatorAddresses().get(0), t.toCoordinator).build();
    try {
      ftlab.proto.CoordinatorGrpc.newBlockingStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .submit(submit);
      t.connectLatency.recordValue((System.nanoTime() - s) / 1_000);
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** "| ratio NAME, through the coordinator | p50 | p99 | throughput |": cluster a over b. */
  private static String ratio(
      String name, int a, int b, List<Histogram> latency, List<Double> throughput) {
    return String.format(
        Locale.ROOT,
        "| ratio %s, through the coordinator | %.2fx | %.2fx | %.2fx |",
        name,
        (double) latency.get(a).getValueAtPercentile(50) / latency.get(b).getValueAtPercentile(50),
        (double) latency.get(a).getValueAtPercentile(99) / latency.get(b).getValueAtPercentile(99),
        throughput.get(a) / throughput.get(b));
  }

  /** "| ratio A / B | p50 | p99 | throughput |": path a over path b, of one cluster. */
  private static String pathRatio(
      String name, Histogram a, double aThroughput, Histogram b, double bThroughput) {
    return String.format(
        Locale.ROOT,
        "| ratio %s | %.2fx | %.2fx | %.2fx |",
        name,
        (double) a.getValueAtPercentile(50) / b.getValueAtPercentile(50),
        (double) a.getValueAtPercentile(99) / b.getValueAtPercentile(99),
        aThroughput / bThroughput);
  }

  private static String row(String name, Histogram h, double throughput) {
    return String.format(
        Locale.ROOT,
        "| %s | %.3f | %.3f | %.0f |",
        name,
        h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0,
        throughput);
  }

  /** Sends {@code count} requests with {@code concurrency} threads; returns the wall time. */
  private long run(Path path, int count, Recorder latency) throws InterruptedException {
    AtomicLong left = new AtomicLong(count);
    CountDownLatch done = new CountDownLatch(concurrency);
    AtomicLong errors = new AtomicLong();
    long start = System.nanoTime();
    for (int t = 0; t < concurrency; t++) {
      Thread thread =
          new Thread(
              () -> {
                try {
                  while (left.getAndDecrement() > 0) {
                    long s = System.nanoTime();
                    try {
                      path.send();
                      latency.recordValue((System.nanoTime() - s) / 1_000);
                    } catch (RuntimeException e) {
                      errors.incrementAndGet();
                    }
                  }
                } finally {
                  done.countDown();
                }
              });
      thread.setDaemon(true);
      thread.start();
    }
    if (!done.await(10, TimeUnit.MINUTES)) {
      throw new IllegalStateException("benchmark block did not finish within 10 minutes");
    }
    if (errors.get() > 0) {
      throw new IllegalStateException(errors.get() + " requests failed during the benchmark");
    }
    return System.nanoTime() - start;
  }
}
