package ftlab.client.it;

import static ftlab.proto.NodeState.DEAD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ftlab.client.NodeAdmin;
import ftlab.client.local.Member;
import ftlab.proto.Faults;
import ftlab.proto.Slow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every process's {@code GET /metrics} over real HTTP, from real JVMs under a checked load: the
 * meters exist, carry the process's tags, and move when traffic and faults happen
 * (docs/metrics.md).
 */
class MetricsIT {
  private static final Duration SOON = Duration.ofSeconds(10);

  private static Scrape scrape(RunningCluster c, String member) {
    return Scrape.of(c.cluster.member(member).metricsUrl());
  }

  @Test
  void everyProcessServesItsMetersAndTheyFollowTrafficAndFaults() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3)) {
      ClusterProbe p = c.probe;
      p.startLoad();
      p.awaitMoreAnswers(60);

      // every process answers, with its own tags and the JVM's meters
      for (Member m : c.cluster.members()) {
        Scrape s = Scrape.of(m.metricsUrl());
        assertThat(s.sum("jvm_memory_used_bytes", "process", m.name(), "role", m.role()))
            .as("%s's heap and non-heap", m.name())
            .isPositive();
        assertThat(s.sum("process_uptime_seconds", "process", m.name())).isPositive();
      }

      // each coordinator counted at least the answers the client got through it (a counter moves
      // as the answer leaves, so it may lag the client by a moment, never for long)
      for (String coordinator : List.of("coordinator-1", "coordinator-2")) {
        long seen = p.answersVia(coordinator);
        await(coordinator + " counts the " + seen + " answers the client got from it")
            .atMost(SOON)
            .untilAsserted(
                () ->
                    assertThat(
                            scrape(c, coordinator)
                                .sum("ftlab_requests_total", "outcome", "answered", "code", "OK"))
                        .isGreaterThanOrEqualTo(seen));
        Scrape s = scrape(c, coordinator);
        assertThat(s.sum("ftlab_request_duration_seconds_count", "outcome", "answered"))
            .isGreaterThanOrEqualTo(seen);
        // a histogram's buckets count cumulatively: each at least the one below it
        double below = 0;
        for (String le : List.of("0.001", "0.01", "0.1", "1.0", "10.0")) {
          double bucket =
              s.sum("ftlab_request_duration_seconds_bucket", "outcome", "answered", "le", le);
          assertThat(bucket).as("bucket le=%s", le).isGreaterThanOrEqualTo(below);
          below = bucket;
        }
        assertThat(below).as("answers within 10 s").isPositive();
        assertThat(s.sum("ftlab_request_duration_seconds_sum", "outcome", "answered")).isPositive();
        // every node known, in whatever state the load left it
        assertThat(s.sum("ftlab_nodes")).isEqualTo(3);
        assertThat(s.sum("ftlab_membership_transitions_total", "from", "NONE", "to", "ALIVE"))
            .isEqualTo(3);
        // Micrometer's gRPC binder: the requests it served, the calls it made to nodes
        assertThat(s.sum("grpc_server_processing_duration_seconds_count", "method", "Submit"))
            .isGreaterThanOrEqualTo(seen);
        assertThat(s.sum("grpc_client_processing_duration_seconds_count", "method", "Compute"))
            .isGreaterThanOrEqualTo(seen);
      }

      // each node counted the tasks it answered, and the heartbeats it sent
      for (String node : List.of("node-1", "node-2", "node-3")) {
        long answeredBy = p.answersBy(node);
        await(node + " counts the " + answeredBy + " answers the client got from it")
            .atMost(SOON)
            .untilAsserted(
                () ->
                    assertThat(
                            scrape(c, node).sum("ftlab_worker_tasks_total", "outcome", "answered"))
                        .isGreaterThanOrEqualTo(answeredBy));
        assertThat(
                scrape(c, node)
                    .sum("grpc_client_processing_duration_seconds_count", "method", "Heartbeat"))
            .isPositive();
        // and a coordinator's attempts on it
        assertThat(
                scrape(c, "coordinator-1")
                    .sum("ftlab_attempts_total", "node", node, "kind", "primary"))
            .isPositive();
      }

      // a fault injected into node-1 shows on its own gauge, and goes when healed
      try (NodeAdmin admin = new NodeAdmin(c.cluster.member("node-1").address())) {
        admin.set(Faults.newBuilder().setSlow(Slow.newBuilder().setDelayMs(5)).build());
        assertThat(scrape(c, "node-1").sum("ftlab_worker_fault_active", "fault", "slow"))
            .isEqualTo(1);
        assertThat(scrape(c, "node-1").sum("ftlab_worker_fault_active", "fault", "lie")).isZero();
        admin.heal();
        assertThat(scrape(c, "node-1").sum("ftlab_worker_fault_active", "fault", "slow")).isZero();
      }

      // node-2 killed: both coordinators' gauges say DEAD, and count the way there
      c.cluster.signal("node-2", "KILL");
      p.awaitState("node-2", DEAD, SOON);
      for (String coordinator : List.of("coordinator-1", "coordinator-2")) {
        Scrape s = scrape(c, coordinator);
        assertThat(s.sum("ftlab_node_state", "node", "node-2", "state", "DEAD"))
            .as(s.grep("ftlab_node_state"))
            .isEqualTo(1);
        assertThat(s.sum("ftlab_node_state", "node", "node-2", "state", "ALIVE")).isZero();
        assertThat(s.sum("ftlab_nodes", "state", "DEAD")).isEqualTo(1);
        assertThat(s.sum("ftlab_membership_transitions_total", "from", "SUSPECT", "to", "DEAD"))
            .isGreaterThanOrEqualTo(1);
        assertThat(s.sum("ftlab_node_heartbeat_age_seconds", "node", "node-2"))
            .isGreaterThan(0.6); // DEAD after 600 ms of silence
      }
      p.awaitMoreAnswers(30);
      p.stopLoadAndAssertNoClientVisibleFailure();

      // every ftlab meter served is listed in docs/metrics.md
      String doc = Files.readString(Path.of("..", "docs", "metrics.md"));
      for (Member m : c.cluster.members()) {
        if (m.name().equals("node-2")) {
          continue; // killed
        }
        for (Scrape.Sample sample : Scrape.of(m.metricsUrl()).samples) {
          String meter = sample.name().replaceAll("_(bucket|count|sum|max)$", "");
          if (meter.startsWith("ftlab_")) {
            assertThat(doc)
                .as("docs/metrics.md lists %s (served by %s)", meter, m.name())
                .contains("`" + meter + "`");
          }
        }
      }
    }
  }
}
