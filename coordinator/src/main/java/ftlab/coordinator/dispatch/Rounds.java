package ftlab.coordinator.dispatch;

import ftlab.coordinator.picker.Candidate;
import io.grpc.Status;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Which nodes one request may still ask, round by round. In a round each node is asked at most
 * once; when every node was tried and none answered, the request pauses and starts a new round
 * (some failures pass: a node at capacity, a reconnect), the pause doubling each round up to {@link
 * #MAX_PAUSE_NANOS}. A node that answered is not asked again (one answer, one vote, per node), nor
 * is one that failed in a way every node would repeat. Pure: guarded by its {@link RequestRun}'s
 * lock, time passed in.
 */
final class Rounds {
  /** The longest pause between rounds, unless the configured first pause is longer. */
  static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final long firstPauseNanos;
  private long pauseNanos;

  /** Nodes tried in this round (running, failed or answered): not picked again in it. */
  private final Set<String> triedThisRound = new HashSet<>();

  /** Nodes that returned an error every node would repeat: not asked again for this request. */
  private final Set<String> failedForGood = new HashSet<>();

  /** The last such error, with the node's name in it. */
  private Status fatal;

  /** A pause was decided and the next round has not begun. */
  private boolean paused;

  /**
   * @param firstPauseNanos the pause before the second round
   */
  Rounds(long firstPauseNanos) {
    this.firstPauseNanos = firstPauseNanos;
    this.pauseNanos = firstPauseNanos;
  }

  /** The nodes this request may still ask at all: {@code all} without those failed for good. */
  List<Candidate> usable(List<Candidate> all) {
    if (failedForGood.isEmpty()) {
      return all; // the usual case, on every event of every request: no copy
    }
    return all.stream().filter(c -> !failedForGood.contains(c.nodeId())).toList();
  }

  /** The node was picked in this round. */
  void tried(String nodeId) {
    triedThisRound.add(nodeId);
  }

  /** Nodes already tried in this round, for the picker. */
  Set<String> triedThisRound() {
    return Collections.unmodifiableSet(triedThisRound);
  }

  /** How many of {@code candidates} have not been tried in this round. */
  int untried(List<Candidate> candidates) {
    int n = 0;
    for (Candidate c : candidates) {
      n += triedThisRound.contains(c.nodeId()) ? 0 : 1;
    }
    return n;
  }

  /** The node failed in a way every node would repeat ({@code status} names it). */
  void failedForGood(String nodeId, Status status) {
    failedForGood.add(nodeId);
    fatal = status;
  }

  /** The last error every node would repeat, if a node returned one. */
  Optional<Status> fatal() {
    return Optional.ofNullable(fatal);
  }

  boolean paused() {
    return paused;
  }

  /**
   * Nothing runs and no node is left in this round: the pause before the next, if a node could
   * still answer ({@code candidates} not all answered) and the pause fits in {@code
   * remainingNanos}; empty means the request has run out of rounds.
   */
  OptionalLong pauseBeforeNextRound(
      List<Candidate> candidates, Set<String> answered, long remainingNanos) {
    boolean anyoneLeft = candidates.stream().anyMatch(c -> !answered.contains(c.nodeId()));
    if (!anyoneLeft || remainingNanos <= pauseNanos) {
      return OptionalLong.empty();
    }
    long pause = pauseNanos;
    pauseNanos = Math.min(pauseNanos * 2, Math.max(firstPauseNanos, MAX_PAUSE_NANOS));
    paused = true;
    return OptionalLong.of(pause);
  }

  /**
   * The pause is over: every node may be tried again, but those that answered (each gives one
   * answer, one vote) and those failed for good.
   */
  void next(Set<String> answered) {
    paused = false;
    triedThisRound.clear();
    triedThisRound.addAll(answered);
  }

  /** The next round will not come (the coordinator is shutting down). */
  void cancelPause() {
    paused = false;
  }
}
