package ftlab.coordinator.dispatch;

import ftlab.proto.AttemptKind;
import ftlab.proto.RedundancyMode;

/**
 * Parallel: {@code replicas} attempts at once on different nodes; the first good answer wins and
 * the others are cancelled. The lowest latency, for {@code replicas} times the work. A replica that
 * fails, even with an error every node would repeat, costs only that replica: another node takes
 * its place while the others run on.
 *
 * <pre>
 *   an answer                       -> answer with it, cancel the others
 *   fewer than replicas running,
 *     free nodes                    -> start the missing ones (PARALLEL_REPLICA first, then RETRY)
 *   otherwise                       -> wait
 * </pre>
 */
record ParallelPolicy(int replicas) implements ModePolicy {

  @Override
  public Redundancy redundancy() {
    return new Redundancy(RedundancyMode.PARALLEL, replicas);
  }

  @Override
  public Decision decide(RequestView r) {
    if (!r.answers().isEmpty()) {
      return Decision.Answer.firstWins(r.answers().get(0));
    }
    int missing = replicas - r.running();
    if (missing > 0 && r.freeNodes() > 0) {
      return new Decision.Start(
          Math.min(missing, r.freeNodes()), r.kindOfNext(AttemptKind.PARALLEL_REPLICA));
    }
    return Decision.WAIT;
  }
}
