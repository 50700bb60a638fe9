package ftlab.coordinator.dispatch;

import ftlab.proto.AttemptKind;
import ftlab.proto.TaskResult;
import io.grpc.Status;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One request as a {@link ModePolicy} sees it when it decides: what woke it, the attempts so far
 * and how they went, and how many nodes could still take one. Made by the {@link RequestRun} under
 * its lock; a policy only reads it.
 *
 * @param trigger why the policy is asked now
 * @param started attempts started so far, for this request
 * @param running attempts still in flight
 * @param hedged whether a hedge was started (hedged mode hedges once at most)
 * @param hedgeRunning whether that hedge is still in flight
 * @param answers every attempt that answered, in the order the answers came
 * @param fatal the last error a node returned that every node would repeat (INTERNAL, say)
 * @param nodes how many nodes could still take an attempt ({@link NodeCounts}), counted only if a
 *     policy asks: an answer in hand needs no look at the cluster
 * @param whyNoNode "no node could answer: node-1 failed: ...; node-2 is DEAD (...)", made on demand
 * @param attemptsSoFar "3 attempts: node-1 OK, node-2 OK, node-3 still running", made on demand
 */
record RequestView(
    Trigger trigger,
    int started,
    int running,
    boolean hedged,
    boolean hedgeRunning,
    List<Answered> answers,
    Optional<Status> fatal,
    Supplier<NodeCounts> nodes,
    Supplier<String> whyNoNode,
    Supplier<String> attemptsSoFar) {

  RequestView {
    answers = List.copyOf(answers);
    if (started < 0 || running < 0 || running > started) {
      throw new IllegalArgumentException(
          "attempts: " + running + " running of " + started + " started");
    }
  }

  /** See {@link NodeCounts#candidates}. */
  int candidates() {
    return nodes.get().candidates();
  }

  /** See {@link NodeCounts#free}. */
  int freeNodes() {
    return nodes.get().free();
  }

  /** See {@link NodeCounts#idle}. */
  int idleNodes() {
    return nodes.get().idle();
  }

  /**
   * @param candidates nodes that may get work at all (ALIVE or SUSPECT), not counting nodes that
   *     returned an error every node would repeat
   * @param free of those, the nodes not tried yet in this round: an attempt started now goes to one
   *     of them
   * @param idle of the candidates, those neither running an attempt of this request nor having
   *     answered it: the nodes that could still answer, in this round or a later one
   */
  record NodeCounts(int candidates, int free, int idle) {
    NodeCounts {
      if (free > candidates || idle > candidates) {
        throw new IllegalArgumentException(
            free + " free and " + idle + " idle nodes of " + candidates + " candidates");
      }
    }
  }

  /**
   * The kind of an attempt started now: the mode's own kind for the request's first attempts, a
   * {@code RETRY} for any later one (a failover, a replacement for a failed replica or voter).
   */
  AttemptKind kindOfNext(AttemptKind first) {
    return started == 0 ? first : AttemptKind.RETRY;
  }

  /** Why the policy is asked now. */
  enum Trigger {
    /** The request has just arrived: no attempt yet. */
    STARTED,
    /** An attempt answered. */
    ANSWERED,
    /** An attempt failed (and was recorded: in {@code fatal} if every node would repeat it). */
    FAILED,
    /** The time the policy asked to be woken at ({@link ModePolicy#wakeUpAfterNanos}) came. */
    WOKEN,
    /** Every node was tried and failed; after a pause, all of them may be tried again. */
    NEW_ROUND
  }

  /** A node's answer (in vote mode, its vote), and the kind of the attempt that got it. */
  record Answered(String nodeId, AttemptKind kind, TaskResult result) {}
}
