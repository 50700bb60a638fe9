package ftlab.client.scenario;

import java.util.function.Consumer;

/**
 * Says each request that did not end ok, but a run of them that failed for the same reason once:
 * the first in full, then "... N more the same way" when another reason or the next progress line
 * comes. Two reasons are the same if they differ only in their times (a vote that cannot find 2
 * nodes fails 20 times a second with the same sentence and a different count of milliseconds); a
 * different node or count is a different reason.
 */
final class RepeatedProblems {
  private final Consumer<String> say;
  private String lastShape;
  private long repeats;
  private long firstRepeatId;
  private long lastRepeatId;

  RepeatedProblems(Consumer<String> say) {
    this.say = say;
  }

  /**
   * A request that did not end ok: {@code line} says it, {@code reason} is what it is grouped by.
   */
  synchronized void problem(long id, String reason, String line) {
    String shape = reason.replaceAll("[0-9]+(\\.[0-9]+)? ?(ms|s)\\b", "#ms");
    if (shape.equals(lastShape)) {
      if (repeats == 0) {
        firstRepeatId = id;
      }
      repeats++;
      lastRepeatId = id;
      return;
    }
    flush();
    lastShape = shape;
    say.accept(line);
  }

  /** Says how many repeats were not said, and starts again (before a progress line, at the end). */
  synchronized void flush() {
    if (repeats > 0) {
      say.accept(
          "... and "
              + repeats
              + " more the same way ("
              + (repeats == 1 ? "#" + firstRepeatId : "#" + firstRepeatId + " to #" + lastRepeatId)
              + ")");
    }
    repeats = 0;
    lastShape = null;
  }
}
