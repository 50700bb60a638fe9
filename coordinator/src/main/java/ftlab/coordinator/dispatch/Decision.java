package ftlab.coordinator.dispatch;

import ftlab.proto.AttemptKind;
import ftlab.proto.AttemptWords;
import ftlab.proto.Ballot;
import ftlab.proto.HowAnswered;
import ftlab.proto.TaskResult;
import io.grpc.Status;
import java.util.List;
import java.util.Map;

/** What a {@link ModePolicy} tells the {@link RequestRun} to do next. */
sealed interface Decision {

  /** Nothing now: wait for an attempt in flight to end, or for the next round. */
  Decision WAIT = new Wait();

  /** See {@link #WAIT}. */
  record Wait() implements Decision {}

  /** Start this many more attempts (at least one), each on a free node, of this kind. */
  record Start(int attempts, AttemptKind kind) implements Decision {
    public Start {
      if (attempts < 1) {
        throw new IllegalArgumentException("start at least 1 attempt, got " + attempts);
      }
    }
  }

  /**
   * Answer the client with this node's result, and cancel the attempts still in flight.
   *
   * @param how how it was obtained, for the client's "how" column
   * @param whyOthersCancelled recorded on each cancelled attempt
   * @param outvoted vote mode: every voter, and whether it voted against the result (the detector's
   *     evidence of lying); empty otherwise
   * @param tally vote mode: every distinct result with its voters; empty otherwise
   */
  record Answer(
      String nodeId,
      TaskResult result,
      HowAnswered how,
      String whyOthersCancelled,
      Map<String, Boolean> outvoted,
      List<Ballot> tally)
      implements Decision {

    /** The first answer wins: the others are not needed any more. */
    static Answer firstWins(RequestView.Answered first) {
      return new Answer(
          first.nodeId(),
          first.result(),
          AttemptWords.howByKind(first.kind()),
          "another attempt answered first",
          Map.of(),
          List.of());
    }
  }

  /** Fail the request with this status, and cancel the attempts still in flight. */
  record Fail(Status status) implements Decision {}
}
