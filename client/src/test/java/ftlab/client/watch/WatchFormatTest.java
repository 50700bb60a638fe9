package ftlab.client.watch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.proto.Answer;
import ftlab.proto.Attempt;
import ftlab.proto.AttemptKind;
import ftlab.proto.AttemptOutcome;
import ftlab.proto.Ballot;
import ftlab.proto.HowAnswered;
import ftlab.proto.Redundancy;
import ftlab.proto.RedundancyMode;
import ftlab.proto.Task;
import ftlab.proto.TaskResult;
import ftlab.task.Tasks;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What {@code ftlab watch} prints, and the task stream it sends. */
class WatchFormatTest {
  private static final Task TASK = TaskMix.DEFAULT.task(1);

  private static Outcome answered(HowAnswered how, TaskResult result, Attempt... attempts) {
    Answer answer =
        Answer.newBuilder()
            .setHow(how)
            .setResult(result)
            .setNodeId("node-3")
            .setCoordinatorId("coordinator-1")
            .addAllAttempts(List.of(attempts))
            .build();
    return new Outcome(
        42,
        TASK,
        Tasks.expectedResult(TASK),
        answer,
        null,
        "127.0.0.1:7001",
        List.of(),
        0,
        3_200_000);
  }

  /** An attempt that ended "OK", "CANCELLED", or failed with the code named. */
  private static Attempt attempt(String node, String outcome, String detail) {
    Attempt.Builder a = Attempt.newBuilder().setNodeId(node).setDetail(detail);
    switch (outcome) {
      case "OK" -> a.setOutcome(AttemptOutcome.ANSWERED);
      case "CANCELLED" -> a.setOutcome(AttemptOutcome.CANCELLED);
      default -> a.setOutcome(AttemptOutcome.FAILED).setFailureCode(outcome);
    }
    return a.build();
  }

  @Test
  void aVerifiedAnswerShowsWhoAnsweredAndHow() {
    Outcome o =
        answered(HowAnswered.HOW_PRIMARY, Tasks.expectedResult(TASK), attempt("node-3", "OK", ""));
    assertThat(o.ok()).isTrue();
    assertThat(WatchCommand.line(o))
        .startsWith("#42")
        .contains(Tasks.describe(TASK))
        .contains("verified")
        .contains("node-3")
        .contains("primary")
        .contains("coordinator-1")
        .endsWith("3.2 ms");
  }

  @Test
  void aRetriedAnswerSaysWhyTheFirstAttemptFailed() {
    Outcome o =
        answered(
            HowAnswered.HOW_RETRY,
            Tasks.expectedResult(TASK),
            attempt("node-2", "UNAVAILABLE", "Connection refused"),
            attempt("node-3", "OK", ""));
    assertThat(WatchCommand.line(o))
        .contains("retry")
        .contains("[node-2 UNAVAILABLE: Connection refused]");
  }

  @Test
  void aHedgedAnswerSaysHedgeAndNamesTheCancelledLoser() {
    Outcome o =
        answered(
            HowAnswered.HOW_HEDGE,
            Tasks.expectedResult(TASK),
            attempt("node-1", "CANCELLED", "not needed any more").toBuilder()
                .setKind(AttemptKind.PRIMARY)
                .build(),
            attempt("node-3", "OK", "").toBuilder().setKind(AttemptKind.HEDGE).build());
    assertThat(o.how()).isEqualTo("hedge");
    assertThat(o.extraAttempts()).isEqualTo(1);
    assertThat(WatchCommand.line(o)).contains(" hedge ").endsWith("[node-1 cancelled]");
  }

  @Test
  void aVotedAnswerShowsTheCountAndWhoWasOutvoted() {
    TaskResult right = Tasks.expectedResult(TASK);
    TaskResult lie = TaskResult.newBuilder().setPrimeCount(right.getPrimeCount() + 1).build();
    Answer answer =
        Answer.newBuilder()
            .setResult(right)
            .setNodeId("node-3")
            .setCoordinatorId("coordinator-1")
            .setRedundancy(Redundancy.newBuilder().setMode(RedundancyMode.VOTE).setReplicas(3))
            .setHow(HowAnswered.HOW_VOTE)
            .addAttempts(attempt("node-1", "OK", "").toBuilder().setResult(right))
            .addAttempts(attempt("node-2", "OK", "").toBuilder().setResult(lie))
            .addAttempts(attempt("node-3", "OK", "").toBuilder().setResult(right))
            .addTally(
                Ballot.newBuilder().setResult(right).addNodeIds("node-3").addNodeIds("node-1"))
            .addTally(Ballot.newBuilder().setResult(lie).addNodeIds("node-2"))
            .build();
    Outcome o =
        new Outcome(42, TASK, right, answer, null, "127.0.0.1:7001", List.of(), 0, 3_200_000);

    assertThat(o.how()).isEqualTo("vote 2/3");
    assertThat(WatchCommand.line(o))
        .contains("verified")
        .contains("vote 2/3")
        .endsWith("[outvoted: node-2 said " + Tasks.describe(lie) + "]");
  }

  @Test
  void extraAttemptsArePerAnsweredRequest() {
    Summary s = new Summary(10, 10, 0, 0, 0, 15, 0, 1, 2, 3, Map.of(), 1, List.of());
    assertThat(s.extraAttemptsPerAnswer()).isEqualTo(0.5);
    assertThat(WatchCommand.percent(s.extraAttemptsPerAnswer())).isEqualTo("50%");
  }

  @Test
  void aWrongAnswerIsFlaggedWithTheExpectedOne() {
    Outcome o =
        answered(
            HowAnswered.HOW_PRIMARY,
            TaskResult.newBuilder().setPrimeCount(-1).build(),
            attempt("node-3", "OK", ""));
    assertThat(o.wrong()).isTrue();
    assertThat(WatchCommand.line(o))
        .contains("WRONG")
        .contains("expected " + Tasks.describe(Tasks.expectedResult(TASK)));
  }

  @Test
  void aFailedRequestSaysWhy() {
    Outcome o =
        new Outcome(
            7,
            TASK,
            Tasks.expectedResult(TASK),
            null,
            "gave up after 10000 ms: x",
            "a",
            List.of("c-1:7001 failed 2001 ms into the request: y"),
            0,
            10_000_000_000L);
    assertThat(o.failed()).isTrue();
    assertThat(WatchCommand.line(o))
        .contains("FAILED after 10000 ms: gave up after 10000 ms: x")
        .contains("[coordinator c-1:7001 failed 2001 ms into the request: y]");
  }

  @Test
  void sharesArePercentagesOfAnswers() {
    assertThat(WatchCommand.shares(Map.of("node-1", 1L))).isEqualTo("node-1 100%");
    assertThat(WatchCommand.shares(Map.of())).isEqualTo("no answers");
  }

  @Test
  void summaryJsonUsesTheDocumentedNames() {
    Summary s =
        new Summary(
            10, 9, 1, 0, 2, 11, 1, 1.5, 9.25, 12, Map.of("node-1", 9L), 3.0, List.of("boom"));
    assertThat(s.toJson())
        .contains("\"sent\":10", "\"ok\":9", "\"failed\":1", "\"wrong\":0", "\"p50_ms\":1.5")
        .contains("\"p99_ms\":9.25", "\"by_node\":{\"node-1\":9}", "\"coordinator_failovers\":1");
    assertThat(Summary.fromJson(s.toJson())).isEqualTo(s);
    assertThat(s.allCorrect()).isFalse();
  }

  @Test
  void theTaskStreamIsReproducibleAndValid() {
    TaskMix mix = new TaskMix("mix", 5, 20_000, 20);
    int echoes = 0;
    for (long id = 1; id <= 500; id++) {
      Task t = mix.task(id);
      assertThat(t).isEqualTo(new TaskMix("mix", 5, 20_000, 20).task(id));
      assertThat(Tasks.problem(t)).isEmpty();
      if (t.hasEcho()) {
        echoes++;
      }
    }
    assertThat(echoes).isBetween(60, 140); // about one in five
    assertThat(new TaskMix("echo", 5, 1, 0).task(3).getEcho().getValue()).isEqualTo("r3");
    assertThatThrownBy(() -> new TaskMix("sort", 1, 1, 1))
        .hasMessage("task kind must be primes, echo or mix, got 'sort'");
    assertThatThrownBy(() -> new TaskMix("mix", 1, 0, 1))
        .hasMessage("prime range width must be between 1 and 10000000, got 0");
  }

  @Test
  void settingsRejectUnboundedOrNonsenseLoad() {
    assertThatThrownBy(() -> Watch.Settings.DEFAULT.withRate(-1))
        .hasMessage("rate must be between 0 and 100000 per second, got -1.0");
    assertThatThrownBy(() -> Watch.Settings.DEFAULT.withConcurrency(0))
        .hasMessage("concurrency must be between 1 and 1000, got 0");
    assertThatThrownBy(() -> Watch.Settings.DEFAULT.withDuration(java.time.Duration.ofDays(2)))
        .hasMessage("duration must be more than 0 and at most 24 h, got 172800 s");
  }
}
