package ftlab.coordinator.dispatch;

import io.grpc.Status;
import java.util.OptionalLong;

/**
 * The rules of one redundancy mode (docs/redundancy.md): given a request as it stands ({@link
 * RequestView}), what to do next ({@link Decision}). Pure (but for hedged mode, which spends a
 * token of the coordinator's hedge budget when it hedges): no network, no clock, no threads; the
 * {@link RequestRun} does everything every mode shares (deadlines, picking nodes, starting and
 * cancelling attempts, rounds, provenance) and asks the policy after every event.
 *
 * <p>To learn how a mode works, read its policy: {@link FailoverPolicy}, {@link HedgedPolicy},
 * {@link ParallelPolicy}, {@link VotePolicy}.
 */
sealed interface ModePolicy permits FailoverPolicy, HedgedPolicy, ParallelPolicy, VotePolicy {

  /** The mode and its replicas, as requests and the cluster view name them. */
  Redundancy redundancy();

  /** What to do now. Called under the request's lock after every event. */
  Decision decide(RequestView request);

  /**
   * No attempt is running, no node is free, and no new round can start (no node left, or no time
   * left for one): why the request fails. By default the last error every node would repeat, or why
   * no node could answer.
   */
  default Status giveUp(RequestView request) {
    return request
        .fatal()
        .orElseGet(() -> Status.UNAVAILABLE.withDescription(request.whyNoNode().get()));
  }

  /**
   * When to be asked again ({@link RequestView.Trigger#WOKEN}) even if no attempt has ended, in
   * nanoseconds after the request started, for a task expected to take {@code expectedNanos}; or
   * never (the default). Hedged mode's hedge delay.
   */
  default OptionalLong wakeUpAfterNanos(long expectedNanos) {
    return OptionalLong.empty();
  }

  /** The policy of a mode; hedged mode shares the coordinator's hedge delay and budget. */
  static ModePolicy of(Redundancy redundancy, HedgePolicy.State hedging) {
    return switch (redundancy.mode()) {
      case HEDGED -> new HedgedPolicy(hedging);
      case PARALLEL -> new ParallelPolicy(redundancy.replicas());
      case VOTE -> new VotePolicy(redundancy.replicas());
      default -> new FailoverPolicy();
    };
  }
}
