package ftlab.coordinator.dispatch;

import static ftlab.coordinator.dispatch.RequestView.Trigger.ANSWERED;
import static ftlab.coordinator.dispatch.RequestView.Trigger.FAILED;
import static ftlab.coordinator.dispatch.RequestView.Trigger.NEW_ROUND;
import static ftlab.coordinator.dispatch.RequestView.Trigger.STARTED;
import static ftlab.coordinator.dispatch.RequestView.Trigger.WOKEN;
import static ftlab.proto.AttemptKind.HEDGE;
import static ftlab.proto.AttemptKind.PARALLEL_REPLICA;
import static ftlab.proto.AttemptKind.PRIMARY;
import static ftlab.proto.AttemptKind.RETRY;
import static ftlab.proto.AttemptKind.VOTE_REPLICA;
import static org.assertj.core.api.Assertions.assertThat;

import ftlab.proto.TaskResult;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Each mode's rules as a table (docs/redundancy.md): a request as it stands, and what the mode's
 * policy decides. No gRPC, no clock, no threads: the policies are pure (but for the hedge budget's
 * token). What every mode shares (deadlines, picking nodes, rounds) is the {@link RequestRun}'s,
 * tested with real calls in DispatcherTest and RedundancyModesTest.
 */
class ModePoliciesTest {
  private static final TaskResult RIGHT = TaskResult.newBuilder().setPrimeCount(25).build();
  private static final TaskResult LIE = TaskResult.newBuilder().setPrimeCount(26).build();
  private static final TaskResult OTHER_LIE = TaskResult.newBuilder().setPrimeCount(27).build();
  private static final Status BUG =
      Status.INTERNAL.withDescription("node-1 failed the task: node-1 hit a bug");

  /** A request as a policy sees it; by default just arrived, with 5 nodes free. */
  private static final class Req {
    RequestView.Trigger trigger = STARTED;
    int started;
    int running;
    boolean hedged;
    boolean hedgeRunning;
    final List<RequestView.Answered> answers = new ArrayList<>();
    Status fatal;
    int candidates = 5;
    int free = 5;
    int idle = 5;

    Req on(RequestView.Trigger t) {
      trigger = t;
      return this;
    }

    Req attempts(int started, int running) {
      this.started = started;
      this.running = running;
      return this;
    }

    Req nodes(int candidates, int free, int idle) {
      this.candidates = candidates;
      this.free = free;
      this.idle = idle;
      return this;
    }

    Req answer(String node, TaskResult result) {
      answers.add(new RequestView.Answered(node, started == 0 ? PRIMARY : RETRY, result));
      return this;
    }

    Req fatal(Status s) {
      fatal = s;
      return this;
    }

    Req hedged(boolean running) {
      hedged = true;
      hedgeRunning = running;
      return this;
    }

    RequestView view() {
      return new RequestView(
          trigger,
          started,
          running,
          hedged,
          hedgeRunning,
          answers,
          Optional.ofNullable(fatal),
          () -> new RequestView.NodeCounts(candidates, free, idle),
          () -> "no node could answer: node-1 is DEAD (...)",
          () -> started + " attempts: ...");
    }
  }

  private static Req req() {
    return new Req();
  }

  private static Decision start(int n, ftlab.proto.AttemptKind kind) {
    return new Decision.Start(n, kind);
  }

  private static String answered(Decision d) {
    assertThat(d).isInstanceOf(Decision.Answer.class);
    Decision.Answer a = (Decision.Answer) d;
    return a.nodeId() + " " + a.result().getPrimeCount();
  }

  private static Status failed(Decision d) {
    assertThat(d).isInstanceOf(Decision.Fail.class);
    return ((Decision.Fail) d).status();
  }

  // ---- failover ----

  @Test
  void failoverRunsOneAttemptAtATimeAndTriesAnotherNodeAfterAFailure() {
    FailoverPolicy p = new FailoverPolicy();

    assertThat(p.decide(req().view())).isEqualTo(start(1, PRIMARY));
    assertThat(p.decide(req().on(STARTED).attempts(1, 1).view())).isEqualTo(Decision.WAIT);
    assertThat(p.decide(req().on(FAILED).attempts(1, 0).nodes(5, 4, 4).view()))
        .isEqualTo(start(1, RETRY));
    assertThat(answered(p.decide(req().on(ANSWERED).attempts(2, 0).answer("node-2", RIGHT).view())))
        .isEqualTo("node-2 25");
    // every node tried: the run pauses and starts a new round, or gives up
    assertThat(p.decide(req().on(FAILED).attempts(5, 0).nodes(5, 0, 5).view()))
        .isEqualTo(Decision.WAIT);
    assertThat(p.decide(req().on(NEW_ROUND).attempts(5, 0).view())).isEqualTo(start(1, RETRY));
  }

  @Test
  void failoverPassesAnErrorEveryNodeWouldRepeatStraightBack() {
    FailoverPolicy p = new FailoverPolicy();

    assertThat(failed(p.decide(req().on(FAILED).attempts(1, 0).fatal(BUG).view()))).isEqualTo(BUG);
    assertThat(p.giveUp(req().attempts(3, 0).nodes(3, 0, 3).view()).getDescription())
        .isEqualTo("no node could answer: node-1 is DEAD (...)");
  }

  // ---- hedged ----

  private static final HedgePolicy HEDGING =
      new HedgePolicy(95, Duration.ofMillis(2), Duration.ofMillis(40), 1.0, 10, 0);

  @Test
  void hedgedAsksToBeWokenAtTheHedgeDelayAndThenHedgesOnce() {
    HedgePolicy.State budget = HEDGING.newState();
    budget.onRequest(); // one token
    HedgedPolicy p = new HedgedPolicy(budget);

    assertThat(p.wakeUpAfterNanos(10_000_000L)).hasValue(50_000_000L); // 10 ms task + 40 ms
    assertThat(p.decide(req().view())).isEqualTo(start(1, PRIMARY));
    // the delay passed with the primary still out: a hedge on another node, for a token
    assertThat(p.decide(req().on(WOKEN).attempts(1, 1).view())).isEqualTo(start(1, HEDGE));
    assertThat(budget.budget()).isZero();
    // while the hedge runs, two attempts are wanted: a failed primary is replaced
    assertThat(p.decide(req().on(FAILED).attempts(2, 1).hedged(true).nodes(5, 3, 3).view()))
        .isEqualTo(start(1, RETRY));
    // once the hedge has ended, one is enough
    assertThat(p.decide(req().on(FAILED).attempts(3, 1).hedged(false).nodes(5, 2, 2).view()))
        .isEqualTo(Decision.WAIT);
    assertThat(answered(p.decide(req().on(ANSWERED).attempts(2, 1).answer("node-2", RIGHT).view())))
        .isEqualTo("node-2 25");
  }

  @Test
  void hedgedDoesNotHedgeWithoutATokenANodeOrAnAttemptToHedge() {
    HedgePolicy.State budget = HEDGING.newState(); // no token yet
    HedgedPolicy p = new HedgedPolicy(budget);

    assertThat(p.decide(req().on(WOKEN).attempts(1, 1).view()))
        .as("no token")
        .isEqualTo(Decision.WAIT);
    budget.onRequest();
    assertThat(p.decide(req().on(WOKEN).attempts(1, 1).nodes(1, 0, 0).view()))
        .as("no other node: the token is kept")
        .isEqualTo(Decision.WAIT);
    assertThat(budget.budget()).isEqualTo(1.0);
    assertThat(p.decide(req().on(WOKEN).attempts(1, 0).nodes(5, 4, 4).view()))
        .as("between retries: nothing to hedge")
        .isEqualTo(Decision.WAIT);
    assertThat(p.decide(req().on(WOKEN).attempts(2, 1).hedged(true).view()))
        .as("hedged already")
        .isEqualTo(Decision.WAIT);
    assertThat(failed(p.decide(req().on(FAILED).attempts(1, 0).fatal(BUG).view()))).isEqualTo(BUG);
  }

  // ---- parallel ----

  @Test
  void parallelKeepsTheReplicasRunningAndTheFirstAnswerWins() {
    ParallelPolicy p = new ParallelPolicy(3);

    assertThat(p.decide(req().view())).isEqualTo(start(3, PARALLEL_REPLICA));
    assertThat(p.decide(req().nodes(2, 2, 2).view()))
        .as("as many as there are nodes")
        .isEqualTo(start(2, PARALLEL_REPLICA));
    // a replica failed, even with an error every node would repeat: another takes its place
    assertThat(p.decide(req().on(FAILED).attempts(3, 2).fatal(BUG).nodes(4, 1, 1).view()))
        .isEqualTo(start(1, RETRY));
    assertThat(p.decide(req().on(FAILED).attempts(3, 2).nodes(3, 0, 0).view()))
        .isEqualTo(Decision.WAIT);
    assertThat(answered(p.decide(req().on(ANSWERED).attempts(3, 2).answer("node-3", RIGHT).view())))
        .isEqualTo("node-3 25");
    // all failed, some with a bug: the bug is the answer
    assertThat(p.giveUp(req().attempts(3, 0).fatal(BUG).nodes(2, 0, 2).view())).isEqualTo(BUG);
  }

  // ---- vote ----

  @Test
  void voteNeedsEnoughNodesForAMajorityFromTheStart() {
    VotePolicy p = new VotePolicy(3);

    assertThat(p.decide(req().view())).isEqualTo(start(3, VOTE_REPLICA));
    Status tooFew = failed(p.decide(req().nodes(1, 1, 1).view()));
    assertThat(tooFew.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(tooFew.getDescription())
        .isEqualTo(
            "vote x3 needs 2 nodes that agree, and only 1 node(s) can get work; no node could"
                + " answer: node-1 is DEAD (...)");
    assertThat(p.decide(req().nodes(2, 2, 2).view()))
        .as("2 nodes can still make a majority of 3")
        .isEqualTo(start(2, VOTE_REPLICA));
  }

  @Test
  void aStrictMajorityWinsAndTheDissentersAreNamed() {
    VotePolicy p = new VotePolicy(3);
    Req twoToOne =
        req()
            .on(ANSWERED)
            .attempts(3, 0)
            .answer("node-1", RIGHT)
            .answer("node-2", LIE)
            .answer("node-3", RIGHT);

    Decision.Answer a = (Decision.Answer) p.decide(twoToOne.view());

    assertThat(a.nodeId()).isEqualTo("node-1");
    assertThat(a.result()).isEqualTo(RIGHT);
    assertThat(a.outvoted())
        .containsEntry("node-1", false)
        .containsEntry("node-2", true)
        .containsEntry("node-3", false);
    assertThat(a.tally()).hasSize(2);
    assertThat(a.tally().get(0).getNodeIdsList()).containsExactly("node-1", "node-3");
    // the third vote is not needed once two agree
    Decision early =
        p.decide(
            req()
                .on(ANSWERED)
                .attempts(3, 1)
                .answer("node-1", RIGHT)
                .answer("node-3", RIGHT)
                .view());
    assertThat(answered(early)).isEqualTo("node-1 25");
  }

  @Test
  void noMajorityIsAnErrorNeverAGuess() {
    VotePolicy p = new VotePolicy(3);

    Status split =
        failed(
            p.decide(
                req()
                    .on(ANSWERED)
                    .attempts(3, 0)
                    .nodes(3, 0, 0)
                    .answer("node-1", RIGHT)
                    .answer("node-2", LIE)
                    .answer("node-3", OTHER_LIE)
                    .view()));
    assertThat(split.getCode()).isEqualTo(Status.Code.ABORTED);
    assertThat(split.getDescription())
        .isEqualTo(
            "no majority: vote x3 needs 2 equal results, got 1 vote for 25 (node-1), 1 for 26"
                + " (node-2), 1 for 27 (node-3); 3 attempts: ...");

    // 1 vote in, none running, no other node could vote: the leader cannot reach 2
    Status tooFew =
        failed(
            p.decide(
                req().on(FAILED).attempts(3, 0).nodes(1, 0, 0).answer("node-1", RIGHT).view()));
    assertThat(tooFew.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(tooFew.getDescription())
        .startsWith("no majority: vote x3 needs 2 equal results, got 1 vote for 25 (node-1)")
        .contains("and no other node could vote");
  }

  @Test
  void aFailedVoterIsReplacedAndEachNodeVotesOnce() {
    VotePolicy p = new VotePolicy(3);

    // node-1 failed, node-2 and node-3 still voting: one more voter, from the free nodes
    assertThat(p.decide(req().on(FAILED).attempts(3, 2).nodes(4, 1, 1).view()))
        .isEqualTo(start(1, RETRY));
    // one vote in, one running, no free node now but one idle (tried this round, failed): wait,
    // a new round may ask it
    assertThat(
            p.decide(req().on(FAILED).attempts(3, 1).nodes(3, 0, 1).answer("node-2", RIGHT).view()))
        .isEqualTo(Decision.WAIT);
    assertThat(
            p.giveUp(req().attempts(4, 0).nodes(3, 0, 0).answer("node-2", RIGHT).view())
                .getDescription())
        .startsWith("no majority:");
  }
}
