package ftlab.coordinator.picker;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.coordinator.membership.NodeState;
import org.junit.jupiter.api.Test;

class CandidateTest {
  private static Candidate node(int ours, int reported, int capacity) {
    return new Candidate("node-1", "node-1:7100", NodeState.ALIVE, ours, reported, capacity, 0);
  }

  @Test
  void aNodeIsFullOnlyWhenBothCountsSaySo() {
    assertThat(node(4, 4, 4).full()).isTrue();
    assertThat(node(5, 4, 4).full()).as("more than its capacity: a refusal on its way").isTrue();
    assertThat(node(3, 4, 4).full()).as("our attempt ended after its heartbeat").isFalse();
    assertThat(node(4, 3, 4).full()).as("its heartbeat says it has room").isFalse();
    assertThat(node(0, 4, 4).full()).as("full of other coordinators' work: it decides").isFalse();
  }

  @Test
  void aNodeOfUnknownCapacityIsNeverFull() {
    assertThat(node(4, 4, 0).full()).isFalse();
  }
}
