package ftlab.bench;

import ftlab.client.Coordinators;
import ftlab.client.local.Jars;
import ftlab.client.local.LocalCluster;
import ftlab.client.local.LocalLayout;
import ftlab.client.local.Member;
import ftlab.client.watch.Summary;
import ftlab.client.watch.TaskMix;
import ftlab.client.watch.Watch;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What open dashboards cost a coordinator: its CPU under the same steady load with no page open and
 * with several, alternating, so that both see the same machine noise.
 */
@Command(
    name = "dashboard",
    mixinStandardHelpOptions = true,
    description = {
      "Measure what open dashboards cost: the coordinator's CPU at a steady rate of answers with"
          + " 0 dashboards and with --pages of them open (each a server-sent-events stream read"
          + " to the end), alternating.",
      "Starts its own cluster (1 coordinator, 3 nodes) on free loopback ports and stops it after."
    })
public final class DashboardBench implements Callable<Integer> {
  @Option(
      names = "--rate",
      defaultValue = "200",
      description = "Requests per second. Default: ${DEFAULT-VALUE}.")
  int rate;

  @Option(
      names = "--pages",
      defaultValue = "5",
      description = "Dashboards open in the measured rounds. Default: ${DEFAULT-VALUE}.")
  int pages;

  @Option(
      names = "--seconds",
      defaultValue = "20",
      description = "Length of each measured round. Default: ${DEFAULT-VALUE}.")
  int seconds;

  @Option(
      names = "--warmup",
      defaultValue = "40",
      description =
          "Seconds of the same load first, unmeasured: the coordinator's CPU per request falls"
              + " for about a minute while the JIT works. Default: ${DEFAULT-VALUE}.")
  int warmup;

  @Option(
      names = "--rounds",
      defaultValue = "3",
      description = "Pairs of rounds (without, with). Default: ${DEFAULT-VALUE}.")
  int rounds;

  /** An open dashboard: a stream read to the end, its bytes counted. */
  private static final class Page implements AutoCloseable {
    final AtomicLong bytes = new AtomicLong();
    final InputStream body;

    Page(HttpClient http, String url) throws Exception {
      HttpResponse<InputStream> r =
          http.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofInputStream());
      if (r.statusCode() != 200) {
        r.body().close();
        throw new IllegalStateException(url + " answered " + r.statusCode());
      }
      body = r.body();
      Thread reader =
          new Thread(
              () -> {
                byte[] buffer = new byte[65_536];
                try {
                  int n;
                  while ((n = body.read(buffer)) >= 0) {
                    bytes.addAndGet(n);
                  }
                } catch (Exception e) {
                  // closed
                }
              },
              "page");
      reader.setDaemon(true);
      reader.start();
    }

    @Override
    public void close() throws Exception {
      body.close();
    }
  }

  private record Round(int pages, Summary summary, double cpuPercent, double pageBytesPerS) {}

  @Override
  public Integer call() throws Exception {
    if (rate < 1 || pages < 1 || pages > 16 || seconds < 5 || rounds < 1 || warmup < 0) {
      throw new IllegalArgumentException(
          "need --rate >= 1, --pages 1-16, --seconds >= 5, --rounds >= 1, --warmup >= 0");
    }
    LocalLayout layout = LocalLayout.onFreePorts(1, 3, 8);
    LocalCluster cluster =
        new LocalCluster(Files.createTempDirectory("ftlab-bench-dashboard-"), Jars.locate());
    System.err.println("starting 1 coordinator and 3 nodes in " + cluster.stateDir());
    cluster.up(layout, Duration.ofSeconds(90), System.err::println);
    Member coordinator = cluster.member("coordinator-1");
    String stream = "http://127.0.0.1:" + coordinator.httpPort() + "/api/stream";
    HttpClient http = HttpClient.newHttpClient();
    Watch.Settings load =
        Watch.Settings.DEFAULT
            .withRate(rate)
            .withConcurrency(16)
            .withDuration(Duration.ofSeconds(seconds))
            .withTasks(new TaskMix("echo", 7, 20_000, 10));
    List<Round> done = new ArrayList<>();
    try (Coordinators coordinators = new Coordinators(layout.coordinatorAddresses())) {
      if (warmup > 0) {
        System.err.printf("warming up for %d s%n", warmup);
        new Watch(coordinators, load.withDuration(Duration.ofSeconds(warmup)))
            .run(o -> {}, s -> {}, Duration.ofSeconds(5));
      }
      for (int r = 0; r < rounds; r++) {
        for (int open : new int[] {0, pages}) {
          List<Page> opened = new ArrayList<>();
          try {
            for (int i = 0; i < open; i++) {
              opened.add(new Page(http, stream));
            }
            long bytesBefore = opened.stream().mapToLong(p -> p.bytes.get()).sum();
            Duration cpuBefore = cpu(coordinator);
            long start = System.nanoTime();
            Summary s = new Watch(coordinators, load).run(o -> {}, x -> {}, Duration.ofSeconds(5));
            double wallS = (System.nanoTime() - start) / 1e9;
            double cpuS = cpu(coordinator).minus(cpuBefore).toNanos() / 1e9;
            long bytes = opened.stream().mapToLong(p -> p.bytes.get()).sum() - bytesBefore;
            Round round = new Round(open, s, 100 * cpuS / wallS, bytes / wallS);
            done.add(round);
            System.err.printf(
                Locale.ROOT,
                "  round %d, %d pages: %.0f answers/s, coordinator CPU %.1f%%%n",
                r + 1,
                open,
                s.ok() / s.durationS(),
                round.cpuPercent());
          } finally {
            for (Page p : opened) {
              p.close();
            }
          }
        }
      }
    } finally {
      cluster.down(Duration.ofSeconds(10), line -> {});
      cluster.deleteState();
    }
    System.out.printf(
        "Dashboards: the coordinator's CPU at %d requests/s (echo 0-10 ms, 3 nodes), %d s rounds"
            + " after %d s of warm-up, without and with %d pages open, alternating%n%n",
        rate, seconds, warmup, pages);
    System.out.println(
        "| round | pages open | answers/s | failed | coordinator CPU, % of one core | p50 ms |"
            + " p99 ms | sent to the pages, KiB/s |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (int i = 0; i < done.size(); i++) {
      Round r = done.get(i);
      System.out.printf(
          Locale.ROOT,
          "| %d | %d | %.0f | %d | %.1f | %.1f | %.1f | %.1f |%n",
          i / 2 + 1,
          r.pages(),
          r.summary().ok() / r.summary().durationS(),
          r.summary().failed(),
          r.cpuPercent(),
          r.summary().p50Ms(),
          r.summary().p99Ms(),
          r.pageBytesPerS() / 1024);
    }
    return 0;
  }

  /** The process's CPU time so far, user and system, as the kernel counts it. */
  private static Duration cpu(Member m) {
    return ProcessHandle.of(m.pid())
        .flatMap(h -> h.info().totalCpuDuration())
        .orElseThrow(() -> new IllegalStateException("cannot read the CPU time of " + m.name()));
  }
}
