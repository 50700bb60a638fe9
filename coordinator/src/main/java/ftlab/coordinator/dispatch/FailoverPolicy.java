package ftlab.coordinator.dispatch;

import ftlab.proto.AttemptKind;

/**
 * Failover: one attempt at a time; another node only after a failure. The cheapest mode: every
 * request costs one attempt unless a node fails. It cannot hide a slow node (the request waits for
 * it, up to the attempt deadline) nor a lying one (nothing compares answers).
 *
 * <pre>
 *   an answer                        -> answer with it
 *   an error every node would repeat -> fail with it (INVALID_ARGUMENT, INTERNAL...)
 *   nothing running, a free node     -> start one attempt (PRIMARY first, then RETRY)
 *   otherwise                        -> wait
 * </pre>
 */
record FailoverPolicy() implements ModePolicy {

  @Override
  public Redundancy redundancy() {
    return Redundancy.FAILOVER;
  }

  @Override
  public Decision decide(RequestView r) {
    if (!r.answers().isEmpty()) {
      return Decision.Answer.firstWins(r.answers().get(0));
    }
    if (r.fatal().isPresent()) {
      return new Decision.Fail(r.fatal().get()); // trying another node would fail the same way
    }
    if (r.running() == 0 && r.freeNodes() > 0) {
      return new Decision.Start(1, r.kindOfNext(AttemptKind.PRIMARY));
    }
    return Decision.WAIT;
  }
}
