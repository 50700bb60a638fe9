package ftlab.coordinator.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.coordinator.membership.NodeState;
import ftlab.coordinator.picker.Candidate;
import io.grpc.Status;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which nodes a request may still ask, round by round; no gRPC, no clock. */
class RoundsTest {
  private static final long MS = 1_000_000;
  private static final List<Candidate> THREE = List.of(node("n1"), node("n2"), node("n3"));

  private final Rounds rounds = new Rounds(20 * MS);

  private static Candidate node(String id) {
    return new Candidate(id, id + ":1", NodeState.ALIVE, 0, 0, 4, 0, true);
  }

  @Test
  void aNodeIsTriedOncePerRound() {
    rounds.tried("n1");
    rounds.tried("n2");

    assertThat(rounds.triedThisRound()).containsExactlyInAnyOrder("n1", "n2");
    assertThat(rounds.untried(THREE)).isEqualTo(1);
  }

  @Test
  void thePauseBetweenRoundsDoublesUpTo200Ms() {
    long[] pauses = new long[6];
    for (int i = 0; i < pauses.length; i++) {
      pauses[i] = rounds.pauseBeforeNextRound(THREE, Set.of(), 10_000 * MS).getAsLong() / MS;
      assertThat(rounds.paused()).isTrue();
      rounds.next(Set.of());
      assertThat(rounds.paused()).isFalse();
    }
    assertThat(pauses).containsExactly(20, 40, 80, 160, 200, 200);
  }

  @Test
  void aFirstPauseLongerThan200MsIsKept() {
    Rounds slow = new Rounds(500 * MS);
    assertThat(slow.pauseBeforeNextRound(THREE, Set.of(), 10_000 * MS)).hasValue(500 * MS);
    slow.next(Set.of());
    assertThat(slow.pauseBeforeNextRound(THREE, Set.of(), 10_000 * MS)).hasValue(500 * MS);
  }

  @Test
  void noNewRoundWhenThePauseDoesNotFitInTheTimeLeftOrEveryNodeHasAnswered() {
    assertThat(rounds.pauseBeforeNextRound(THREE, Set.of(), 20 * MS)).isEmpty();
    assertThat(rounds.pauseBeforeNextRound(THREE, Set.of("n1", "n2", "n3"), 10_000 * MS)).isEmpty();
    assertThat(rounds.paused()).isFalse();
    // one node left that has not answered: it gets a new round
    assertThat(rounds.pauseBeforeNextRound(THREE, Set.of("n1", "n2"), 10_000 * MS))
        .isEqualTo(OptionalLong.of(20 * MS));
  }

  @Test
  void aNewRoundTriesEveryNodeAgainButThoseThatAnswered() {
    rounds.tried("n1");
    rounds.tried("n2");
    rounds.tried("n3");

    rounds.next(Set.of("n2")); // n2 gave its answer (its vote): one per request

    assertThat(rounds.triedThisRound()).containsExactly("n2");
    assertThat(rounds.untried(THREE)).isEqualTo(2);
  }

  @Test
  void aNodeThatFailedForGoodIsNeverAskedAgainAndItsErrorIsKept() {
    Status bad = Status.INVALID_ARGUMENT.withDescription("n2 failed the task: bad range");
    rounds.failedForGood("n2", bad);
    rounds.next(Set.of());

    assertThat(rounds.usable(THREE)).extracting(Candidate::nodeId).containsExactly("n1", "n3");
    assertThat(rounds.fatal()).hasValue(bad);
  }
}
