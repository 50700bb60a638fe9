package ftlab.node.faults;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A "random" source for tests: each draw returns the next scripted answer, in order, so a test says
 * exactly which tasks are hit. {@link FaultPlan#decide} draws {@code nextDouble()} for a fraction
 * (a task is hit when the draw is below it) and {@code nextInt(jitter + 1)} for a jitter. A draw
 * with nothing scripted, or of the wrong kind, fails the test: it means the plan drew more, or
 * otherwise, than the test expected.
 */
public final class ScriptedRandom implements RandomGenerator {
  private final Deque<Number> answers = new ArrayDeque<>();
  private final List<String> draws = new ArrayList<>();

  /** Doubles are answers to {@code nextDouble()}, integers to {@code nextInt(bound)}. */
  public ScriptedRandom(Number... answers) {
    this.answers.addAll(List.of(answers));
  }

  @Override
  public double nextDouble() {
    draws.add("nextDouble()");
    if (!(next() instanceof Double d)) {
      throw new IllegalStateException("nextDouble() drawn where an int was scripted");
    }
    return d;
  }

  @Override
  public int nextInt(int bound) {
    draws.add("nextInt(" + bound + ")");
    if (!(next() instanceof Integer i)) {
      throw new IllegalStateException("nextInt(" + bound + ") drawn where a double was scripted");
    }
    if (i < 0 || i >= bound) {
      throw new IllegalStateException("scripted answer " + i + " is not in [0, " + bound + ")");
    }
    return i;
  }

  @Override
  public long nextLong() {
    throw new UnsupportedOperationException("fault decisions draw nextDouble() or nextInt(bound)");
  }

  private Number next() {
    if (answers.isEmpty()) {
      throw new IllegalStateException("no scripted answer left; draws so far: " + draws);
    }
    return answers.poll();
  }

  /** Every draw made so far, e.g. [nextDouble(), nextInt(51)]. */
  public List<String> draws() {
    return List.copyOf(draws);
  }

  /** Whether every scripted answer was used. */
  public boolean usedUp() {
    return answers.isEmpty();
  }
}
