package ftlab.coordinator.picker;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.coordinator.membership.NodeState;
import org.junit.jupiter.api.Test;

class CandidateTest {
  /** A candidate whose last heartbeat came after our last attempt on it started. */
  private static Candidate node(int ours, int reported, int capacity) {
    return new Candidate(
        "node-1", "node-1:7100", NodeState.ALIVE, ours, reported, capacity, 0, true);
  }

  /** A candidate whose last heartbeat came before our last attempt on it started. */
  private static Candidate beforeOurLast(int ours, int reported) {
    return new Candidate("node-1", "node-1:7100", NodeState.ALIVE, ours, reported, 4, 0, false);
  }

  @Test
  void aHeartbeatFromBeforeOurLastAttemptCannotSayTheNodeHasRoom() {
    assertThat(beforeOurLast(4, 0).full()).isTrue();
    assertThat(beforeOurLast(4, 3).full()).isTrue();
    assertThat(beforeOurLast(3, 4).full()).as("our count has room: never full").isFalse();
  }

  @Test
  void aHeartbeatFromAfterItIsBelievedWhenItSaysThereIsRoom() {
    assertThat(node(4, 4, 4).full()).isTrue();
    assertThat(node(5, 4, 4).full()).as("more than its capacity: a refusal on its way").isTrue();
    assertThat(node(4, 3, 4).full())
        .as("an attempt of ours ended there (or our count is too high): ask")
        .isFalse();
    assertThat(node(3, 4, 4).full()).as("our attempt ended after its heartbeat").isFalse();
    assertThat(node(0, 4, 4).full()).as("full of other coordinators' work: it decides").isFalse();
  }

  @Test
  void aNodeOfUnknownCapacityIsNeverFull() {
    assertThat(node(4, 4, 0).full()).isFalse();
  }
}
