package ftlab.coordinator.dispatch;

import ftlab.proto.AttemptKind;
import ftlab.proto.HowAnswered;
import ftlab.proto.RedundancyMode;
import ftlab.proto.TaskResult;
import io.grpc.Status;
import java.util.Optional;

/**
 * Vote: {@code replicas} attempts at once on different nodes; the answer is a result that a strict
 * majority of them returned (2 of 3, 3 of 4 or 5). Protects against a node that lies, for {@code
 * replicas} times the work. No majority is an error, never a guess. Each node votes once.
 *
 * <pre>
 *   at the start, fewer nodes than a majority  -> fail: UNAVAILABLE, too few nodes
 *   a result has a majority                    -> answer with it; cancel the votes still out;
 *                                                 the voters against it are noted (quarantine)
 *   every replica voted and no majority, or
 *     the votes still possible cannot make one -> fail: ABORTED on a split (1-1-1), UNAVAILABLE
 *                                                 when too few nodes could vote
 *   fewer votes and voters than replicas,
 *     free nodes                               -> start the missing ones (VOTE_REPLICA, then RETRY)
 *   otherwise                                  -> wait
 * </pre>
 */
record VotePolicy(int replicas) implements ModePolicy {

  @Override
  public Redundancy redundancy() {
    return new Redundancy(RedundancyMode.VOTE, replicas);
  }

  /** Agreeing results needed: a strict majority of the replicas. */
  int majority() {
    return redundancy().majority();
  }

  @Override
  public Decision decide(RequestView r) {
    if (r.trigger() == RequestView.Trigger.STARTED && r.candidates() < majority()) {
      return new Decision.Fail(
          Status.UNAVAILABLE.withDescription(
              redundancy().describe()
                  + " needs "
                  + majority()
                  + " nodes that agree, and only "
                  + r.candidates()
                  + " node(s) can get work; "
                  + r.whyNoNode().get()));
    }
    VoteTally tally = VoteTally.of(r.answers());
    Optional<TaskResult> winner = tally.winner(majority());
    if (winner.isPresent()) {
      return new Decision.Answer(
          tally.votersFor(winner.get()).get(0),
          winner.get(),
          HowAnswered.HOW_VOTE,
          "the vote was decided",
          tally.outvoted(winner.get()),
          tally.ballots());
    }
    if (tally.votes() > 0) {
      boolean allVoted = tally.votes() >= replicas && r.running() == 0;
      // even if every vote still possible went to the leading result:
      int atMost = tally.leaderCount() + r.running() + r.idleNodes();
      if (allVoted || atMost < majority()) {
        return noMajority(tally, r);
      }
    }
    int missing = replicas - tally.votes() - r.running();
    if (missing > 0 && r.freeNodes() > 0) {
      return new Decision.Start(
          Math.min(missing, r.freeNodes()), r.kindOfNext(AttemptKind.VOTE_REPLICA));
    }
    return Decision.WAIT;
  }

  @Override
  public Status giveUp(RequestView r) {
    VoteTally tally = VoteTally.of(r.answers());
    return tally.votes() > 0 ? noMajority(tally, r).status() : ModePolicy.super.giveUp(r);
  }

  /** No result can reach a majority any more: an error, never a guess. */
  private Decision.Fail noMajority(VoteTally tally, RequestView r) {
    String got =
        "no majority: "
            + redundancy().describe()
            + " needs "
            + majority()
            + " equal results, got "
            + tally.describe();
    return new Decision.Fail(
        tally.distinctResults() >= 2
            ? Status.ABORTED.withDescription(got + "; " + r.attemptsSoFar().get())
            : Status.UNAVAILABLE.withDescription(
                got + " and no other node could vote; " + r.attemptsSoFar().get()));
  }
}
