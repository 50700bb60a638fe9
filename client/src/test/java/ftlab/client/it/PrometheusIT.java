package ftlab.client.it;

import static ftlab.proto.NodeState.DEAD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ftlab.client.local.Member;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A real Prometheus scrapes a real local cluster, and answers through its own API what happened:
 * every target up, the requests counted, a p99 from the histogram, and a killed node DEAD in both
 * coordinators' gauges and down as a target (docs/metrics.md's queries, run for real).
 */
class PrometheusIT {
  /**
   * The documented queries about things this test does not do (votes, hedges, injected faults,
   * failed attempts, disagreeing coordinators), which may rightly answer nothing here.
   */
  private static final List<String> MAY_BE_EMPTY =
      List.of(
          "ftlab_attempt_failures_total",
          "count by (node) (count by (node, state)",
          "kind=\"hedge\"",
          "ftlab_hedge_budget_tokens < 1",
          "ftlab_votes_outvoted_total",
          "ftlab_worker_fault_active");

  /** Prometheus scrapes every second; a few scrapes, and a loaded machine's slack. */
  private static final Duration SCRAPED = Duration.ofSeconds(20);

  @Test
  void prometheusScrapesEveryProcessAndItsQueriesSayWhatHappened() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3)) {
      List<String> targets =
          c.cluster.members().stream().map(m -> "127.0.0.1:" + m.httpPort()).toList();
      try (RealPrometheus prometheus = RealPrometheus.scraping(targets)) {
        await("every target up")
            .atMost(SCRAPED)
            .untilAsserted(
                () ->
                    assertThat(prometheus.targetHealth())
                        .hasSize(5)
                        .allSatisfy(t -> assertThat(t).endsWith(" up")));
        ClusterProbe p = c.probe;
        p.startLoad();
        p.awaitMoreAnswers(100);
        long answered = p.answers();

        await("Prometheus counts the " + answered + " answers the client got")
            .atMost(SCRAPED)
            .until(
                () ->
                    sum(prometheus.query("sum(ftlab_requests_total{outcome=\"answered\"})"))
                        >= answered);
        await("a p99 from the request-time histogram")
            .atMost(SCRAPED)
            .untilAsserted(
                () ->
                    assertThat(
                            sum(
                                prometheus.query(
                                    "histogram_quantile(0.99, sum by (le)"
                                        + " (rate(ftlab_request_duration_seconds_bucket[10s])))")))
                        .isBetween(0.0001, 10.0));
        // which nodes did the work: by the process label every meter carries
        assertThat(
                prometheus.query(
                    "sum by (process) (ftlab_worker_tasks_total{outcome=\"answered\"}) > 0"))
            .extracting(RealPrometheus.Series::labels)
            .containsExactly(
                "{\"process\":\"node-1\"}", "{\"process\":\"node-2\"}", "{\"process\":\"node-3\"}");

        c.cluster.signal("node-2", "KILL");
        p.awaitState("node-2", DEAD, Duration.ofSeconds(5));
        Member node2 = c.cluster.member("node-2");
        await("both coordinators' node-2 DEAD, and node-2's target down, in Prometheus")
            .atMost(SCRAPED)
            .untilAsserted(
                () -> {
                  assertThat(
                          prometheus.query("ftlab_node_state{node=\"node-2\",state=\"DEAD\"} == 1"))
                      .hasSize(2);
                  assertThat(prometheus.query("up == 0"))
                      .extracting(RealPrometheus.Series::labels)
                      .singleElement()
                      .asString()
                      .contains("127.0.0.1:" + node2.httpPort());
                });
        p.awaitMoreAnswers(30);
        p.stopLoadAndAssertNoClientVisibleFailure();

        // every query docs/metrics.md offers a learner runs on this Prometheus
        List<String> documented = documentedQueries();
        assertThat(documented).hasSizeGreaterThan(10);
        for (String q : documented) {
          // fails with Prometheus's own error if it does not parse
          List<RealPrometheus.Series> answer = prometheus.query(q);
          if (MAY_BE_EMPTY.stream().noneMatch(q::contains)) {
            assertThat(answer).as("docs/metrics.md's query %s", q).isNotEmpty();
          }
        }
        assertThat(prometheus.query("sum by (outcome) (rate(ftlab_requests_total[1m]))"))
            .extracting(RealPrometheus.Series::labels)
            .contains("{\"outcome\":\"answered\"}");
      }
    }
  }

  /** The queries in docs/metrics.md's promql blocks. */
  static List<String> documentedQueries() throws java.io.IOException {
    String doc = java.nio.file.Files.readString(java.nio.file.Path.of("..", "docs", "metrics.md"));
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("```promql\n(.*?)\n```", java.util.regex.Pattern.DOTALL)
            .matcher(doc);
    List<String> out = new java.util.ArrayList<>();
    while (m.find()) {
      out.add(m.group(1).strip());
    }
    return out;
  }

  private static double sum(List<RealPrometheus.Series> series) {
    return series.stream().mapToDouble(RealPrometheus.Series::value).sum();
  }
}
