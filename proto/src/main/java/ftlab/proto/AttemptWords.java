package ftlab.proto;

/**
 * Attempts and answers ({@code coordinator.proto}) in words, the same in every process: the
 * coordinator's error messages, {@code ftlab watch} and the tests print them alike.
 */
public final class AttemptWords {
  private AttemptWords() {}

  /** How an attempt ended, in one word: "OK", "CANCELLED", or the code it failed with. */
  public static String outcome(Attempt a) {
    return outcome(a.getOutcome(), a.getFailureCode());
  }

  /** As {@link #outcome(Attempt)}, for an attempt still being recorded. */
  public static String outcome(AttemptOrBuilder a) {
    return outcome(a.getOutcome(), a.getFailureCode());
  }

  private static String outcome(AttemptOutcome outcome, String failureCode) {
    return switch (outcome) {
      case ANSWERED -> "OK";
      case CANCELLED -> "CANCELLED";
      case FAILED -> failureCode;
      default -> "still running";
    };
  }

  /** The word for an answer's provenance: "primary", "retry", "hedge", "parallel" or "vote". */
  public static String how(HowAnswered how) {
    return switch (how) {
      case HOW_PRIMARY -> "primary";
      case HOW_RETRY -> "retry";
      case HOW_HEDGE -> "hedge";
      case HOW_PARALLEL -> "parallel";
      case HOW_VOTE -> "vote";
      default -> "?";
    };
  }

  /** An attempt's kind in one word: "primary", "retry", "hedge", "parallel" or "vote". */
  public static String kind(AttemptKind kind) {
    return how(howByKind(kind));
  }

  /** The provenance of an answer won by an attempt of this kind, outside vote mode. */
  public static HowAnswered howByKind(AttemptKind kind) {
    return switch (kind) {
      case HEDGE -> HowAnswered.HOW_HEDGE;
      case PARALLEL_REPLICA -> HowAnswered.HOW_PARALLEL;
      case RETRY -> HowAnswered.HOW_RETRY;
      case VOTE_REPLICA -> HowAnswered.HOW_VOTE;
      default -> HowAnswered.HOW_PRIMARY;
    };
  }
}
