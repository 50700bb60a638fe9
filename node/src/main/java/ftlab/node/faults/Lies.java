package ftlab.node.faults;

import ftlab.proto.Task;
import ftlab.proto.TaskResult;
import java.math.BigInteger;

/**
 * Wrong results that look right: what a lying ("byzantine") node returns. A lie that is obviously
 * absurd (a negative count, an empty echo) would be caught by any sanity check; these are caught
 * only by checking the answer itself, or by asking several nodes and comparing (vote mode), which
 * is the lesson.
 */
public final class Lies {
  private Lies() {}

  /**
   * A result that differs from {@code truth}, the real result of {@code task}, but could pass for
   * it: a prime count one too high; an echo whose trailing number is one higher ("r41" becomes
   * "r42", as if the node had mixed up two requests), or whose last letter is the next one ("hello"
   * becomes "hellp"), or with an "x" added when it has neither.
   */
  public static TaskResult wrong(Task task, TaskResult truth) {
    return switch (truth.getValueCase()) {
      case PRIME_COUNT -> TaskResult.newBuilder().setPrimeCount(truth.getPrimeCount() + 1).build();
      case ECHOED -> TaskResult.newBuilder().setEchoed(wrongEcho(truth.getEchoed())).build();
      default ->
          throw new IllegalArgumentException(
              "no result to lie about for " + task.getKindCase() + ": " + truth.getValueCase());
    };
  }

  static String wrongEcho(String value) {
    int digits = value.length();
    while (digits > 0 && value.charAt(digits - 1) >= '0' && value.charAt(digits - 1) <= '9') {
      digits--;
    }
    if (digits < value.length()) {
      String number = value.substring(digits);
      return value.substring(0, digits) + new BigInteger(number).add(BigInteger.ONE);
    }
    if (!value.isEmpty()) {
      char last = value.charAt(value.length() - 1);
      if (last >= 'a' && last <= 'z' || last >= 'A' && last <= 'Z') {
        char next = last == 'z' ? 'a' : last == 'Z' ? 'A' : (char) (last + 1);
        return value.substring(0, value.length() - 1) + next;
      }
    }
    return value + "x";
  }
}
