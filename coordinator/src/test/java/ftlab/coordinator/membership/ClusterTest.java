package ftlab.coordinator.membership;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shared {@link Cluster} around the pure membership: what it counts from the events. */
class ClusterTest {
  private static final long MS = 1_000_000L;
  private long now = 1_000 * MS;
  private final List<MembershipEvent> events = new ArrayList<>();
  private final Cluster cluster = new Cluster(DetectorConfig.DEFAULT, () -> now, events::add);
  private long sequence;

  private void beat(String nodeId) {
    cluster.heartbeat(new Heartbeat(nodeId, "127.0.0.1:7101", 1, ++sequence, 0, 4));
  }

  private void silence(long millis) {
    for (long t = 0; t < millis; t += 10) {
      now += 10 * MS;
      cluster.tick();
    }
  }

  @Test
  void countsEveryTimeANodeWentSuspectAndStillTellsTheListenerEverything() {
    beat("node-1");
    assertThat(cluster.timesSuspected("node-1")).isZero();

    silence(310); // ALIVE -> SUSPECT
    assertThat(cluster.timesSuspected("node-1")).isEqualTo(1);
    silence(300); // SUSPECT -> DEAD: not another suspicion
    assertThat(cluster.timesSuspected("node-1")).isEqualTo(1);
    beat("node-1"); // DEAD -> ALIVE
    silence(310); // and SUSPECT again
    assertThat(cluster.timesSuspected("node-1")).isEqualTo(2);

    assertThat(cluster.timesSuspected("node-2")).as("a node never heard of").isZero();
    assertThat(events)
        .filteredOn(e -> e instanceof MembershipEvent.Transition)
        .extracting(e -> ((MembershipEvent.Transition) e).to())
        .containsExactly(
            NodeState.ALIVE, NodeState.SUSPECT, NodeState.DEAD, NodeState.ALIVE, NodeState.SUSPECT);
  }
}
