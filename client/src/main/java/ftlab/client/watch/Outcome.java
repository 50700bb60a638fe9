package ftlab.client.watch;

import ftlab.proto.Answer;
import ftlab.proto.AttemptWords;
import ftlab.proto.HowAnswered;
import ftlab.proto.Task;
import ftlab.proto.TaskResult;
import java.util.List;

/**
 * What happened to one request of a watch.
 *
 * @param expected the answer the client computed itself
 * @param answer the coordinator's answer, or null if the request failed
 * @param error why it failed (null when answered)
 * @param coordinator the address of the coordinator that answered (or was tried last)
 * @param coordinatorFailures coordinators tried before, each "address failed N ms into the request:
 *     why" (or "failed K times, N to M ms" for repeats; see {@link TriedCoordinators})
 * @param sentNanos when the client sent it ({@link System#nanoTime()} of the client's process)
 * @param latencyNanos from sending it to its answer or failure, on the client's clock
 */
public record Outcome(
    long id,
    Task task,
    TaskResult expected,
    Answer answer,
    String error,
    String coordinator,
    List<String> coordinatorFailures,
    long sentNanos,
    long latencyNanos) {

  public boolean ok() {
    return answer != null && answer.getResult().equals(expected);
  }

  public boolean wrong() {
    return answer != null && !answer.getResult().equals(expected);
  }

  public boolean failed() {
    return answer == null;
  }

  /**
   * How the answer was obtained, as the coordinator says ({@code Answer.how}): "primary" (the first
   * attempt), "retry" (after failed attempts), "hedge" (a second attempt started because the first
   * was slow), "parallel" (the fastest of several), or "vote 2/3" (the result a majority of the
   * nodes returned, with the count).
   */
  public String how() {
    if (answer.getHow() == HowAnswered.HOW_VOTE && answer.getTallyCount() > 0) {
      int votes = answer.getTallyList().stream().mapToInt(b -> b.getNodeIdsCount()).sum();
      return "vote " + answer.getTally(0).getNodeIdsCount() + "/" + votes;
    }
    return AttemptWords.how(answer.getHow());
  }

  /** Attempts beyond the first: the extra load this request put on the nodes. */
  public int extraAttempts() {
    return answer == null ? 0 : Math.max(0, answer.getAttemptsCount() - 1);
  }
}
