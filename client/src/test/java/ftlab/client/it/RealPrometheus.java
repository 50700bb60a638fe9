package ftlab.client.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import ftlab.client.local.LocalLayout;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Prometheus server (Debian's {@code prometheus} package, installed by {@code .ci/run}),
 * started for one test on a free loopback port, scraping the given targets every second, and asked
 * through its own HTTP API. In CI a missing Prometheus fails the test; elsewhere it skips it.
 */
final class RealPrometheus implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final Process process;
  private final Path dir;
  private final String base;

  private RealPrometheus(Process process, Path dir, int port) {
    this.process = process;
    this.dir = dir;
    this.base = "http://127.0.0.1:" + port;
  }

  /** The prometheus binary: FTLAB_PROMETHEUS, else the one on the PATH. */
  private static Path binary() {
    String given = System.getenv("FTLAB_PROMETHEUS");
    if (given != null && !given.isBlank()) {
      return Path.of(given);
    }
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(d, "prometheus");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    String why =
        "no prometheus on the PATH (Debian: apt-get install prometheus; or FTLAB_PROMETHEUS)";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail(why + ", and in CI this test must run");
    }
    Assumptions.abort(why);
    return null;
  }

  /** Starts Prometheus scraping {@code targets} (host:port) every second, and waits until ready. */
  static RealPrometheus scraping(List<String> targets) throws IOException {
    Path binary = binary();
    Path dir = Files.createTempDirectory("ftlab-prometheus-");
    StringBuilder config =
        new StringBuilder(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n"
                + "scrape_configs:\n  - job_name: ftlab\n    static_configs:\n      - targets:\n");
    for (String t : targets) {
      config.append("          - '").append(t).append("'\n");
    }
    Files.writeString(dir.resolve("prometheus.yml"), config.toString());
    int port = LocalLayout.freePortBlock(1);
    Path log = Path.of("target", "prometheus-" + port + ".log").toAbsolutePath();
    Files.createDirectories(log.getParent());
    Process p =
        new ProcessBuilder(
                binary.toString(),
                "--config.file=" + dir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    RealPrometheus prometheus = new RealPrometheus(p, dir, port);
    try {
      await("Prometheus ready on port " + port + " (log: " + log + ")")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          // refused connections until it listens
          .ignoreExceptionsInstanceOf(IOException.class)
          .until(
              () -> {
                if (!p.isAlive()) {
                  throw new AssertionError(
                      "prometheus exited with " + p.exitValue() + ": see " + log);
                }
                return prometheus.get("/-/ready").statusCode() == 200;
              });
    } catch (RuntimeException e) {
      prometheus.close();
      throw e;
    }
    return prometheus;
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject api(String path) {
    try {
      HttpResponse<String> r = get(path);
      JsonObject body = JsonParser.parseString(r.body()).getAsJsonObject();
      if (r.statusCode() != 200 || !"success".equals(body.get("status").getAsString())) {
        throw new AssertionError("Prometheus answered " + r.statusCode() + ": " + r.body());
      }
      return body.getAsJsonObject("data");
    } catch (IOException e) {
      throw new AssertionError("cannot ask Prometheus " + path + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Every active target's scrape URL and health ("up", "down", "unknown"). */
  List<String> targetHealth() {
    JsonArray active = api("/api/v1/targets?state=active").getAsJsonArray("activeTargets");
    return active.asList().stream()
        .map(t -> t.getAsJsonObject())
        .map(t -> t.get("scrapeUrl").getAsString() + " " + t.get("health").getAsString())
        .sorted()
        .toList();
  }

  /** An instant PromQL query: each series' labels and value, one line each, sorted. */
  List<Series> query(String promql) {
    JsonObject data =
        api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    if (!"vector".equals(data.get("resultType").getAsString())) {
      throw new AssertionError("not a vector: " + data);
    }
    return data.getAsJsonArray("result").asList().stream()
        .map(e -> e.getAsJsonObject())
        .map(
            s ->
                new Series(
                    s.getAsJsonObject("metric").toString(),
                    Double.parseDouble(s.getAsJsonArray("value").get(1).getAsString())))
        .sorted(Comparator.comparing(Series::labels))
        .toList();
  }

  record Series(String labels, double value) {}

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a temp folder left behind is no failure
    }
  }
}
