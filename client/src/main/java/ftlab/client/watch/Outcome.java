package ftlab.client.watch;

import ftlab.proto.Answer;
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
 * @param coordinatorFailures coordinators tried before, each "address: why"
 */
public record Outcome(
    long id,
    Task task,
    TaskResult expected,
    Answer answer,
    String error,
    String coordinator,
    List<String> coordinatorFailures,
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

  /** How the answer was obtained: "primary" (first try) or "retry" (after failed attempts). */
  public String how() {
    return answer.getAttemptsCount() > 1 ? "retry" : "primary";
  }
}
