package ftlab.coordinator.picker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A "random" source for tests: {@code nextInt(bound)} returns the next scripted answer, or 0 once
 * the script is used up. The {@link NodePicker} draws among the equally good nodes in the order it
 * was given them (node-id order when they come from the cluster), so 0 means "the first of the tied
 * nodes". It also remembers how many nodes each draw was among.
 */
public final class ScriptedRandom implements RandomGenerator {
  private final Deque<Integer> answers = new ArrayDeque<>();
  private final List<Integer> bounds = new ArrayList<>();

  public ScriptedRandom(Integer... answers) {
    this.answers.addAll(List.of(answers));
  }

  /** Always the first of the tied nodes: makes the order of attempts known in advance. */
  public static ScriptedRandom alwaysFirst() {
    return new ScriptedRandom();
  }

  @Override
  public int nextInt(int bound) {
    bounds.add(bound);
    int answer = answers.isEmpty() ? 0 : answers.poll();
    if (answer >= bound) {
      throw new IllegalStateException("scripted answer " + answer + " is not below " + bound);
    }
    return answer;
  }

  @Override
  public long nextLong() {
    throw new UnsupportedOperationException("the picker is expected to draw with nextInt(bound)");
  }

  /** How many nodes each draw so far was among, in order. */
  public List<Integer> bounds() {
    return List.copyOf(bounds);
  }
}
