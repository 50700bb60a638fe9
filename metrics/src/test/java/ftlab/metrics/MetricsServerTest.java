package ftlab.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MetricsServerTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private ProcessMetrics metrics;
  private MetricsServer server;

  @BeforeEach
  void start() {
    metrics = ProcessMetrics.create("node", "node-7");
    server = MetricsServer.start("127.0.0.1", 0, metrics);
  }

  @AfterEach
  void stop() {
    server.close();
    metrics.close();
  }

  private HttpResponse<String> send(String method, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesTheProcessAndJvmMetersInPrometheusTextWithTheProcessTags() throws Exception {
    metrics.registry().counter("ftlab_test_things", "kind", "red").increment(3);

    HttpResponse<String> r = send("GET", "/metrics");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).contains(MetricsServer.PROMETHEUS_TEXT);
    assertThat(r.body())
        .contains("# TYPE ftlab_test_things_total counter")
        .contains("ftlab_test_things_total{kind=\"red\",process=\"node-7\",role=\"node\"} 3.0")
        .containsPattern("jvm_memory_used_bytes\\{area=\"heap\",id=\"[^\"]+\",process=\"node-7\"")
        .contains("process_uptime_seconds{process=\"node-7\",role=\"node\"}")
        .contains("jvm_threads_live_threads{process=\"node-7\",role=\"node\"}");
  }

  @Test
  void answersOtherPathsAndMethodsWithASentence() throws Exception {
    HttpResponse<String> missing = send("GET", "/nope");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).contains("nothing at /nope").contains("GET /metrics");

    HttpResponse<String> post = send("POST", "/metrics");
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("Allow")).contains("GET, HEAD");

    HttpResponse<String> head = send("HEAD", "/metrics");
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
  }

  @Test
  void aTakenPortIsRefusedWithASentenceNamingIt() {
    assertThatThrownBy(() -> MetricsServer.start("127.0.0.1", server.port(), metrics))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot serve metrics on 127.0.0.1:" + server.port());
  }

  @Test
  void theHttpPortIsTheGrpcPortPlus1000UnlessSet() {
    assertThat(MetricsServer.portFor("", 7001)).isEqualTo(8001);
    assertThat(MetricsServer.portFor(null, 7101)).isEqualTo(8101);
    assertThat(MetricsServer.portFor(" 9090 ", 7001)).isEqualTo(9090);
    assertThat(MetricsServer.portFor("-1", 7001)).isEqualTo(MetricsServer.NONE);
    assertThat(MetricsServer.portFor("0", 7001)).isZero();
    assertThatThrownBy(() -> MetricsServer.portFor("", 65000))
        .hasMessage(
            "the HTTP port would be the gRPC port + 1000 = 66000, out of range: set --http-port");
    assertThatThrownBy(() -> MetricsServer.portFor("7001", 7001))
        .hasMessage("--http-port must be -1 (none) or a port other than the gRPC port, got 7001");
    assertThatThrownBy(() -> MetricsServer.portFor("web", 7001))
        .hasMessage("--http-port must be a port, or -1 for none, got 'web'");
  }
}
