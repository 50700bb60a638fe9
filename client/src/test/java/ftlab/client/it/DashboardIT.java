package ftlab.client.it;

import static ftlab.proto.NodeState.ALIVE;
import static ftlab.proto.NodeState.DEAD;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import ftlab.client.local.Member;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's dashboard over real HTTP, from real processes: the page and its script are
 * served, the stream of server-sent events tells what happens (a node frozen from the dashboard's
 * own button goes DEAD, healed it comes back ALIVE), and the controls answer in sentences.
 */
class DashboardIT {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static String base(RunningCluster c, String coordinator) {
    Member m = c.cluster.member(coordinator);
    return "http://127.0.0.1:" + m.httpPort();
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** GET /api/view as a page at {@code origin} asks for it. */
  private static HttpResponse<String> viewFrom(String base, String origin) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(base + "/api/view"))
            .header("Origin", origin)
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(String url, boolean withHeader) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.noBody());
    if (withHeader) {
      b.header("X-Ftlab", "1");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A POST with the page's header and the Host given, over a plain socket (Java's HTTP client will
   * not set Host); returns the whole answer.
   */
  private static String rawPost(int port, String path, String host) throws Exception {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5_000);
      socket
          .getOutputStream()
          .write(
              ("POST "
                      + path
                      + " HTTP/1.1\r\nHost: "
                      + host
                      + "\r\nX-Ftlab: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The batches of one open stream, as they arrive. */
  private static final class Stream implements AutoCloseable {
    final BlockingQueue<JsonObject> batches = new LinkedBlockingQueue<>();
    final InputStream body;
    final Thread reader;

    Stream(String url) throws Exception {
      HttpResponse<InputStream> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(url)).build(),
              HttpResponse.BodyHandlers.ofInputStream());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type"))
          .hasValueSatisfying(t -> assertThat(t).startsWith("text/event-stream"));
      body = r.body();
      reader =
          new Thread(
              () -> {
                try (BufferedReader in =
                    new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = in.readLine()) != null) {
                    if (line.startsWith("data: ")) {
                      batches.add(JsonParser.parseString(line.substring(6)).getAsJsonObject());
                    }
                  }
                } catch (Exception e) {
                  // closed
                }
              },
              "dashboard-stream");
      reader.setDaemon(true);
      reader.start();
    }

    /** Reads batches until one satisfies {@code wanted}; fails after {@code atMost}. */
    JsonObject until(String what, Duration atMost, Predicate<JsonObject> wanted)
        throws InterruptedException {
      long deadline = System.nanoTime() + atMost.toNanos();
      while (System.nanoTime() < deadline) {
        JsonObject b = batches.poll(100, TimeUnit.MILLISECONDS);
        if (b != null && wanted.test(b)) {
          return b;
        }
      }
      throw new AssertionError("no batch with " + what + " within " + atMost);
    }

    @Override
    public void close() throws Exception {
      body.close();
    }
  }

  private static String stateIn(JsonObject batch, String node) {
    for (JsonElement n : batch.getAsJsonObject("view").getAsJsonArray("nodes")) {
      JsonObject o = n.getAsJsonObject();
      if (o.get("nodeId").getAsString().equals(node)) {
        return o.get("state").getAsString();
      }
    }
    return "absent";
  }

  private static boolean hasTransition(JsonObject batch, String node, String to) {
    for (JsonElement e : batch.getAsJsonArray("events")) {
      JsonObject o = e.getAsJsonObject();
      if ("transition".equals(o.get("kind").getAsString())
          && node.equals(o.get("node").getAsString())
          && to.equals(o.get("to").getAsString())) {
        return true;
      }
    }
    return false;
  }

  @Test
  void theDashboardShowsTheClusterAndItsButtonsBreakAndHealANode() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3)) {
      ClusterProbe p = c.probe;
      String base = base(c, "coordinator-1");

      HttpResponse<String> page = get(base + "/");
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.body()).contains("<title>ftlab dashboard</title>").contains("dashboard.js");
      assertThat(get(base + "/dashboard.js").body()).contains("new EventSource");
      assertThat(get(base + "/metrics").body()).contains("ftlab_nodes"); // still the meters'
      assertThat(get(base + "/nope").statusCode()).isEqualTo(404);
      assertThat(get(base + "/uplot.js").body()).contains("uPlot"); // the charts, from the jar
      String other = base(c, "coordinator-2");
      assertThat(viewFrom(base, other).headers().firstValue("Access-Control-Allow-Origin"))
          .as("the other coordinator's page reads the view")
          .contains(other);
      assertThat(
              viewFrom(base, "https://evil.example.com")
                  .headers()
                  .firstValue("Access-Control-Allow-Origin"))
          .as("another web site in the same browser does not")
          .isEmpty();
      JsonArray coordinators =
          JsonParser.parseString(get(base + "/api/coordinators").body()).getAsJsonArray();
      assertThat(coordinators).hasSize(2);
      assertThat(coordinators.get(1).getAsJsonObject().get("url").getAsString())
          .isEqualTo(base(c, "coordinator-2") + "/");
      assertThat(coordinators.get(0).getAsJsonObject().get("self").getAsBoolean()).isTrue();

      JsonObject view = JsonParser.parseString(get(base + "/api/view").body()).getAsJsonObject();
      assertThat(view.get("coordinatorId").getAsString()).isEqualTo("coordinator-1");
      assertThat(view.getAsJsonArray("nodes")).hasSize(3);

      p.startLoad();
      try (Stream stream = new Stream(base + "/api/stream")) {
        JsonObject first = stream.until("the first batch", Duration.ofSeconds(5), b -> true);
        assertThat(first.get("first").getAsBoolean()).isTrue();
        assertThat(stateIn(first, "node-2")).isEqualTo("ALIVE");
        // the joins are in the recent events a new page is shown
        assertThat(hasTransition(first, "node-2", "ALIVE")).isTrue();
        stream.until(
            "answers", Duration.ofSeconds(10), b -> b.getAsJsonArray("answers").size() > 0);
        // the charts' seconds: each batch brings the seconds that closed, with what ended in them
        stream.until(
            "a second with answers, charted",
            Duration.ofSeconds(5),
            b -> {
              for (var second : b.getAsJsonArray("seconds")) {
                JsonObject sec = second.getAsJsonObject();
                if (sec.get("answered").getAsLong() > 0 && sec.has("p99")) {
                  return true;
                }
              }
              return false;
            });

        // a change without the page's header is refused, with a sentence
        HttpResponse<String> refused = post(base + "/api/nodes/node-2/freeze", false);
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("X-Ftlab: 1");

        // and one through someone else's name pointed at this port (DNS rebinding)
        String rebound =
            rawPost(
                c.cluster.member("coordinator-1").httpPort(),
                "/api/mode?mode=vote",
                "evil.example.com");
        assertThat(rebound).startsWith("HTTP/1.1 403").contains("not at 'evil.example.com");

        HttpResponse<String> frozen = post(base + "/api/nodes/node-2/freeze", true);
        assertThat(frozen.statusCode()).as(frozen.body()).isEqualTo(200);
        assertThat(frozen.body()).contains("node-2 now has: freeze");
        stream.until("node-2 DEAD", Duration.ofSeconds(5), b -> hasTransition(b, "node-2", "DEAD"));
        p.awaitState("node-2", DEAD, Duration.ofSeconds(5));

        HttpResponse<String> healed = post(base + "/api/nodes/node-2/heal", true);
        assertThat(healed.body()).contains("node-2 now has: no faults");
        JsonObject back =
            stream.until(
                "node-2 ALIVE", Duration.ofSeconds(5), b -> hasTransition(b, "node-2", "ALIVE"));
        assertThat(stateIn(back, "node-2")).isEqualTo("ALIVE");
        p.awaitState("node-2", ALIVE, Duration.ofSeconds(5));

        // the mode switch, and its mistakes
        HttpResponse<String> vote = post(base + "/api/mode?mode=vote&replicas=3", true);
        assertThat(vote.body()).contains("coordinator-1 mode: vote x3");
        stream.until(
            "the switch in the timeline",
            Duration.ofSeconds(5),
            b ->
                b.getAsJsonArray("events").asList().stream()
                        .map(JsonElement::getAsJsonObject)
                        .anyMatch(
                            e ->
                                e.get("kind").getAsString().equals("mode")
                                    && e.get("text")
                                        .getAsString()
                                        .equals("coordinator-1 mode: vote x3 (was failover)"))
                    // in the same batch as the view that shows it
                    && b.getAsJsonObject("view")
                        .getAsJsonObject("redundancy")
                        .get("mode")
                        .getAsString()
                        .equals("VOTE"));
        HttpResponse<String> bad = post(base + "/api/mode?mode=majority", true);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("mode must be one of failover, hedged, parallel, vote");
        HttpResponse<String> unknown = post(base + "/api/nodes/node-9/freeze", true);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("no node node-9");
        HttpResponse<String> badAction = post(base + "/api/nodes/node-1/explode", true);
        assertThat(badAction.statusCode()).isEqualTo(400);
        assertThat(post(base + "/api/mode?mode=failover", true).statusCode()).isEqualTo(200);
      }
      p.awaitMoreAnswers(100); // enough load to mean something, through all of it
      p.stopLoadAndAssertNoClientVisibleFailure();
    }
  }
}
