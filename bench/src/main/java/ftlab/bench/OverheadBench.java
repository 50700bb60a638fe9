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

  @Override
  public Integer call() throws Exception {
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
    LocalLayout layout = LocalLayout.onFreePorts(1, 1, Math.max(16, concurrency * 2));
    LocalCluster cluster =
        new LocalCluster(Files.createTempDirectory("ftlab-bench-overhead-"), Jars.locate());
    System.err.println("starting 1 coordinator and 1 node in " + cluster.stateDir());
    cluster.up(layout, Duration.ofSeconds(90), System.err::println);
    String nodeAddress = "127.0.0.1:" + layout.nodeBasePort();
    ManagedChannel nodeChannel =
        Grpc.newChannelBuilder(nodeAddress, InsecureChannelCredentials.create()).build();
    try (Coordinators coordinator = new Coordinators(layout.coordinatorAddresses())) {
      WorkerGrpc.WorkerBlockingStub node = WorkerGrpc.newBlockingStub(nodeChannel);
      ComputeRequest direct =
          ComputeRequest.newBuilder().setRequestId("b").setTask(TRIVIAL).build();
      SubmitRequest viaCoordinator =
          SubmitRequest.newBuilder().setRequestId("b").setTask(TRIVIAL).build();
      Path directPath = () -> node.withDeadlineAfter(5, TimeUnit.SECONDS).compute(direct);
      Recorder inside = new Recorder(3);
      Path coordinatorPath =
          () ->
              inside.recordValue(
                  Math.max(
                      1,
                      coordinator
                          .stub(0)
                          .withDeadlineAfter(5, TimeUnit.SECONDS)
                          .submit(viaCoordinator)
                          .getCoordinatorMicros()));

      System.err.printf("warming up: %d requests per path%n", warmup);
      run(directPath, warmup, new Recorder(3));
      run(coordinatorPath, warmup, new Recorder(3));

      inside.reset();
      Recorder directLatency = new Recorder(3);
      Recorder coordinatorLatency = new Recorder(3);
      long directNanos = 0;
      long coordinatorNanos = 0;
      for (int done = 0; done < requests; done += block) {
        directNanos += run(directPath, block, directLatency);
        coordinatorNanos += run(coordinatorPath, block, coordinatorLatency);
        System.err.printf("  %d / %d per path%n", done + block, requests);
      }
      Histogram d = directLatency.getIntervalHistogram();
      Histogram c = coordinatorLatency.getIntervalHistogram();
      Histogram in = inside.getIntervalHistogram();
      double dThroughput = d.getTotalCount() / (directNanos / 1e9);
      double cThroughput = c.getTotalCount() / (coordinatorNanos / 1e9);
      System.out.printf(
          "Coordinator overhead: trivial task (echo, 0 ms), %d requests per path, %d in flight,"
              + " alternating blocks of %d%n%n",
          d.getTotalCount(), concurrency, block);
      System.out.println("| path | p50 ms | p99 ms | throughput req/s |");
      System.out.println("|---|---:|---:|---:|");
      System.out.println(row("client -> node (direct)", d, dThroughput));
      System.out.println(row("client -> coordinator -> node", c, cThroughput));
      System.out.printf(
          Locale.ROOT,
          "| ratio coordinator / direct | %.2fx | %.2fx | %.2fx |%n",
          (double) c.getValueAtPercentile(50) / d.getValueAtPercentile(50),
          (double) c.getValueAtPercentile(99) / d.getValueAtPercentile(99),
          cThroughput / dThroughput);
      System.out.printf(
          Locale.ROOT,
          "%nOf the coordinator path, time inside the coordinator (from its receiving the request to"
              + " its answer, its own call to the node included): p50 %.3f ms, p99 %.3f ms.%n",
          in.getValueAtPercentile(50) / 1000.0,
          in.getValueAtPercentile(99) / 1000.0);
      return 0;
    } finally {
      nodeChannel.shutdownNow();
      cluster.down(Duration.ofSeconds(10), line -> {});
      cluster.deleteState();
    }
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
