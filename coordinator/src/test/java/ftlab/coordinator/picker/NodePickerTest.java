package ftlab.coordinator.picker;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.coordinator.membership.NodeState;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Which node gets the next attempt (docs/architecture.md, "Dispatch with failover"). The picker is
 * pure, so these tests hand it candidates and read its choice; the only randomness is a scripted
 * {@link ScriptedRandom} or a seeded generator.
 */
class NodePickerTest {

  private static Candidate node(
      String id, NodeState state, int coordinatorInFlight, int reportedInFlight) {
    return new Candidate(
        id, id + ":7100", state, coordinatorInFlight, reportedInFlight, 4, 0, true);
  }

  private static Candidate alive(String id, int coordinatorInFlight, int reportedInFlight) {
    return node(id, NodeState.ALIVE, coordinatorInFlight, reportedInFlight);
  }

  private static Candidate idle(String id) {
    return alive(id, 0, 0);
  }

  private static Optional<String> pick(List<Candidate> candidates, Set<String> tried) {
    return new NodePicker(ScriptedRandom.alwaysFirst())
        .pick(candidates, tried)
        .map(Candidate::nodeId);
  }

  @Test
  void neverPicksDeadOrLeftNodesEvenWhenTheyAreIdle() {
    List<Candidate> candidates =
        List.of(
            node("node-1", NodeState.DEAD, 0, 0),
            node("node-2", NodeState.LEFT, 0, 0),
            alive("node-3", 3, 3)); // busy, but the only one that may get work

    assertThat(pick(candidates, Set.of())).contains("node-3");
  }

  @Test
  void neverPicksANodeAlreadyTriedForThisRequest() {
    // node-1 is the least loaded, but it already failed this request: try someone else
    List<Candidate> candidates = List.of(idle("node-1"), alive("node-2", 2, 2));

    assertThat(pick(candidates, Set.of("node-1"))).contains("node-2");
  }

  @Test
  void aliveNodesComeBeforeSuspectOnesWhateverTheLoad() {
    List<Candidate> candidates =
        List.of(node("node-1", NodeState.SUSPECT, 0, 0), alive("node-2", 5, 4));

    assertThat(pick(candidates, Set.of())).contains("node-2");
  }

  @Test
  void aSuspectNodeIsTheLastResort() {
    List<Candidate> candidates =
        List.of(
            idle("node-1"),
            node("node-2", NodeState.SUSPECT, 1, 1),
            node("node-3", NodeState.SUSPECT, 0, 0));

    // node-1 failed already; among the SUSPECT ones, the least loaded
    assertThat(pick(candidates, Set.of("node-1"))).contains("node-3");
  }

  @Test
  void fewestAttemptsFromThisCoordinatorWinsOverWhatNodesReported() {
    // This coordinator's own count is exact and current; a node's report may be a heartbeat old.
    List<Candidate> candidates = List.of(alive("node-1", 2, 0), alive("node-2", 1, 4));

    assertThat(pick(candidates, Set.of())).contains("node-2");
  }

  @Test
  void reportedLoadBreaksTiesInThisCoordinatorsCount() {
    // The report covers work that other coordinators sent to the node.
    List<Candidate> candidates =
        List.of(alive("node-1", 1, 3), alive("node-2", 1, 1), alive("node-3", 1, 2));

    assertThat(pick(candidates, Set.of())).contains("node-2");
  }

  @Test
  void tiesAreBrokenByTheRandomGeneratorAmongTheTiedNodesOnly() {
    List<Candidate> candidates =
        List.of(idle("node-1"), idle("node-2"), alive("node-3", 0, 1), idle("node-4"));
    ScriptedRandom random = new ScriptedRandom(2, 0);
    NodePicker picker = new NodePicker(random);

    // node-3 reported one task, so the draw is among node-1, node-2 and node-4, in that order
    assertThat(picker.pick(candidates, Set.of()).map(Candidate::nodeId)).contains("node-4");
    assertThat(picker.pick(candidates, Set.of()).map(Candidate::nodeId)).contains("node-1");
    assertThat(random.bounds()).containsExactly(3, 3);
  }

  @Test
  void equalNodesShareTheWorkEvenly() {
    List<Candidate> candidates = List.of(idle("node-1"), idle("node-2"), idle("node-3"));
    NodePicker picker = new NodePicker(new SplittableRandom(42)); // seeded: same result every run
    Map<String, Integer> picks = new HashMap<>();

    for (int i = 0; i < 3_000; i++) {
      picks.merge(picker.pick(candidates, Set.of()).orElseThrow().nodeId(), 1, Integer::sum);
    }

    // about 1,000 each; a fixed node (always the first, say) would get all 3,000
    assertThat(picks).containsOnlyKeys("node-1", "node-2", "node-3");
    assertThat(picks.values()).allSatisfy(n -> assertThat(n).isBetween(900, 1_100));
  }

  @Test
  void nothingPickableGivesEmpty() {
    assertThat(pick(List.of(), Set.of())).isEmpty();
    assertThat(
            pick(
                List.of(node("node-1", NodeState.DEAD, 0, 0), node("node-2", NodeState.LEFT, 0, 0)),
                Set.of()))
        .isEmpty();
    assertThat(
            pick(
                List.of(idle("node-1"), node("node-2", NodeState.SUSPECT, 0, 0)),
                Set.of("node-1", "node-2")))
        .isEmpty();
  }

  private static Candidate timed(String id, int coordinatorInFlight, long slownessMs) {
    return new Candidate(
        id,
        id + ":7100",
        NodeState.ALIVE,
        coordinatorInFlight,
        0,
        4,
        slownessMs * 1_000_000L,
        true);
  }

  @Test
  void aNodeFarSlowerThanTheOthersGetsWorkOnlyWhenTheyCannotTakeIt() {
    // node-3 answers 50 ms later than expected, the others within a millisecond or two
    List<Candidate> candidates =
        List.of(timed("node-1", 2, 1), timed("node-2", 2, 2), timed("node-3", 0, 50));

    // idle, it would win on load; slow, it comes after busier nodes of normal speed
    assertThat(pick(candidates, Set.of())).contains("node-1");
    assertThat(pick(candidates, Set.of("node-1", "node-2"))).contains("node-3");
  }

  @Test
  void smallDifferencesInSpeedDoNotCount() {
    // 15 ms is below the 20 ms margin, and 3 ms is within 4 times the median: all of normal speed
    List<Candidate> candidates =
        List.of(timed("node-1", 1, 1), timed("node-2", 0, 15), timed("node-3", 1, 3));
    assertThat(pick(candidates, Set.of())).contains("node-2");
    assertThat(NodePicker.slowAbove(candidates)).isEqualTo(20_000_000L);
    // with long tasks every node has more extra time: 4 x the median sets the bar then
    assertThat(
            NodePicker.slowAbove(List.of(timed("a", 0, 30), timed("b", 0, 40), timed("c", 0, 200))))
        .isEqualTo(160_000_000L);
  }

  @Test
  void aSlowNodeIsForgottenWithTimeSoThatItIsTriedAgain() {
    RecentExtraTime extra = new RecentExtraTime();
    long second = 1_000_000_000L;
    extra.record("node-3", 900_000_000L, 10 * second);
    extra.record("node-3", 300_000_000L, 10 * second);
    extra.record("node-3", 100_000_000L, 10 * second);
    assertThat(extra.nanos("node-3", 10 * second))
        .as("the first 3 answers are not counted: a cold start is slow for reasons that pass")
        .isZero();
    extra.record("node-3", 2_000_000L, 10 * second);
    assertThat(extra.nanos("node-3", 10 * second))
        .as("judged from the 4th answer, without the cold start's")
        .isEqualTo(1_000_000L);
    for (int i = 0; i < 20; i++) {
      extra.record("node-3", 50_000_000L, 10 * second);
    }
    assertThat(extra.nanos("node-3", 10 * second)).isBetween(49_000_000L, 50_000_000L);

    // it gets no more work, so no more answers: its score halves every 10 s
    assertThat(extra.nanos("node-3", 20 * second)).isBetween(24_000_000L, 25_000_000L);
    assertThat(extra.nanos("node-3", 24 * second))
        .as("below the 20 ms margin after 14 s of rest: tried again")
        .isLessThan(NodePicker.SLOW_MARGIN_NANOS);
    assertThat(extra.nanos("node-9", 16 * second)).as("never measured").isZero();
    extra.forget("node-3");
    assertThat(extra.nanos("node-3", 24 * second)).as("a new process").isZero();
  }
}
