package ftlab.coordinator.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.coordinator.membership.NodeState;
import ftlab.coordinator.picker.Candidate;
import ftlab.proto.AttemptKind;
import ftlab.proto.TaskResult;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

/** What a request's attempts tell the policy: who runs, who answered what, in which order. */
class RequestAttemptsTest {
  private static final TaskResult RIGHT = TaskResult.newBuilder().setPrimeCount(25).build();

  private static AttemptOnNode attempt(String node, long startNanos) {
    return new AttemptOnNode(
        new Candidate(node, node + ":7101", NodeState.ALIVE, 0, 0, 4, 0, true),
        AttemptKind.VOTE_REPLICA,
        300_000_000L,
        startNanos,
        0);
  }

  @Test
  void answersComeInTheOrderTheyArrivedNotTheOrderTheAttemptsStarted() {
    RequestAttempts attempts = new RequestAttempts();
    AttemptOnNode first = attempt("node-1", 0);
    AttemptOnNode second = attempt("node-2", 0);
    AttemptOnNode third = attempt("node-3", 0);
    attempts.add(first);
    attempts.add(second);
    attempts.add(third);

    third.answered(RIGHT, 5_000_000L);
    attempts.answered(third);
    second.answered(RIGHT, 9_000_000L);
    attempts.answered(second);

    // in vote mode the first voter for the winner is the answer's node: node-3 answered first
    assertThat(attempts.answers())
        .extracting(RequestView.Answered::nodeId)
        .containsExactly("node-3", "node-2");
    assertThat(attempts.running()).isEqualTo(1);
    assertThat(attempts.runningOrAnsweredNodes()).containsOnly("node-1", "node-2", "node-3");
    assertThat(attempts.answeredNodes()).containsOnly("node-2", "node-3");
    assertThat(attempts.soFar())
        .isEqualTo("3 attempts: node-1 still running, node-2 OK, node-3 OK");

    first.failed(Status.Code.UNAVAILABLE, "refused", false, 10_000_000L);
    assertThat(attempts.soFar()).startsWith("3 attempts: node-1 UNAVAILABLE");
    assertThat(attempts.records().get(0).getLatencyMicros()).isEqualTo(10_000);
  }
}
