package ftlab.coordinator.membership;

import java.time.Duration;

/**
 * The failure detector's knobs. A node is judged by how long this coordinator has heard nothing
 * from it ("silence"):
 *
 * <pre>
 *   SUSPECT when silence > suspectAfterBeats x heartbeatInterval   (default 3 x 100 ms = 300 ms)
 *   DEAD    when silence > deadAfterBeats    x heartbeatInterval   (default 6 x 100 ms = 600 ms)
 * </pre>
 *
 * <p>Why these defaults: one or two lost or late beats are normal (a GC pause, a busy core), three
 * in a row are not; SUSPECT costs little (the node only drops to the back of the queue), so it can
 * come early. DEAD at 6 beats keeps a frozen node's detection time under the 1 s target: silence is
 * counted from the node's last beat, which left 0-100 ms before the freeze, so DEAD comes 500-600
 * ms after the freeze, plus up to one detector tick (25 ms); and it leaves a 300 ms margin over
 * SUSPECT against false deaths. Failed calls make a node SUSPECT at once, without the timer.
 *
 * @param heartbeatInterval how often nodes are expected to beat (the nodes' own setting must match)
 * @param suspectAfterBeats missed beats before SUSPECT
 * @param deadAfterBeats missed beats before DEAD; more than suspectAfterBeats
 */
public record DetectorConfig(
    Duration heartbeatInterval, int suspectAfterBeats, int deadAfterBeats) {

  public static final DetectorConfig DEFAULT = new DetectorConfig(Duration.ofMillis(100), 3, 6);

  public DetectorConfig {
    if (heartbeatInterval.isNegative() || heartbeatInterval.isZero()) {
      throw new IllegalArgumentException(
          "heartbeat interval must be positive, got " + heartbeatInterval.toMillis() + " ms");
    }
    if (suspectAfterBeats < 1) {
      throw new IllegalArgumentException(
          "suspect-after must be at least 1 beat, got " + suspectAfterBeats);
    }
    if (deadAfterBeats <= suspectAfterBeats) {
      throw new IllegalArgumentException(
          "dead-after ("
              + deadAfterBeats
              + " beats) must be more than suspect-after ("
              + suspectAfterBeats
              + " beats)");
    }
  }

  public long intervalNanos() {
    return heartbeatInterval.toNanos();
  }

  public long suspectAfterNanos() {
    return suspectAfterBeats * intervalNanos();
  }

  public long deadAfterNanos() {
    return deadAfterBeats * intervalNanos();
  }

  /**
   * For this long after a node joins, restarts or comes back ALIVE, failed calls to it are not held
   * against it: 2 x interval (200 ms by default), time for the coordinator's connection to it to be
   * set up again.
   */
  public long reconnectGraceNanos() {
    return 2 * intervalNanos();
  }

  /** E.g. {@code 3 x 100 ms}: the threshold as a learner reads it in transition reasons. */
  String suspectFormula() {
    return suspectAfterBeats + " x " + heartbeatInterval.toMillis() + " ms";
  }

  String deadFormula() {
    return deadAfterBeats + " x " + heartbeatInterval.toMillis() + " ms";
  }
}
