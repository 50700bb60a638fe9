package ftlab.coordinator.dispatch;

import ftlab.proto.AttemptKind;
import ftlab.proto.RedundancyMode;
import java.util.OptionalLong;

/**
 * Hedged: failover, plus one more attempt on another node when the first is slower than the hedge
 * delay; the first good answer wins and the loser is cancelled ("The Tail at Scale", Dean and
 * Barroso, 2013). Cheap insurance against a node that stalls now and then.
 *
 * <pre>
 *   an answer                          -> answer with it, cancel the other attempt
 *   an error every node would repeat   -> fail with it
 *   the hedge delay passed (WOKEN), the first attempt still running, not hedged yet,
 *     a free node, a token in the budget -> start a HEDGE (once per request)
 *   fewer attempts running than wanted -> start one (PRIMARY first, then RETRY); two are wanted
 *                                         while the hedge runs, one otherwise
 *   otherwise                          -> wait
 * </pre>
 *
 * <p>The delay (expected time + p95 of recent extra time) and the budget (5% more attempts in the
 * long run, 10 in hand at the start) are {@link HedgePolicy}'s, shared by every request of the
 * coordinator. The token is taken only when there is a node to hedge on.
 */
record HedgedPolicy(HedgePolicy.State hedging) implements ModePolicy {

  @Override
  public Redundancy redundancy() {
    return new Redundancy(RedundancyMode.HEDGED, 1);
  }

  @Override
  public OptionalLong wakeUpAfterNanos(long expectedNanos) {
    return OptionalLong.of(hedging.delayNanos(expectedNanos));
  }

  @Override
  public Decision decide(RequestView r) {
    if (!r.answers().isEmpty()) {
      return Decision.Answer.firstWins(r.answers().get(0));
    }
    if (r.fatal().isPresent()) {
      return new Decision.Fail(r.fatal().get());
    }
    if (r.trigger() == RequestView.Trigger.WOKEN) {
      boolean firstStillOut = r.running() > 0 && !r.hedged();
      if (firstStillOut && r.freeNodes() > 0 && hedging.tryHedge()) {
        return new Decision.Start(1, AttemptKind.HEDGE);
      }
      return Decision.WAIT; // answered or between retries, no node to hedge on, or no token
    }
    int wanted = r.hedgeRunning() ? 2 : 1;
    if (r.running() < wanted && r.freeNodes() > 0) {
      return new Decision.Start(
          Math.min(wanted - r.running(), r.freeNodes()), r.kindOfNext(AttemptKind.PRIMARY));
    }
    return Decision.WAIT;
  }
}
