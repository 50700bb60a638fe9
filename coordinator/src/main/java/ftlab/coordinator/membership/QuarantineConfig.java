package ftlab.coordinator.membership;

import java.time.Duration;

/**
 * When a node that keeps disagreeing with the majority in vote mode is taken out of service:
 *
 * <pre>
 *   QUARANTINED when outvoted >= threshold in its last `window` votes   (default 3 of 20)
 *   released    by an operator (ftlab readmit NODE), or after `expiry`  (default 60 s)
 * </pre>
 *
 * <p>Why these defaults: one wrong vote can be bad luck (a bit flip, a bug hit once); three in
 * twenty is a pattern. A node that lies on 30% of tasks is caught after about 10 votes. The expiry
 * lets a lab heal itself if nobody readmits the node; a node that still lies is caught again.
 *
 * @param window how many of a node's most recent votes are counted
 * @param threshold outvoted votes within the window that quarantine the node
 * @param expiry how long a quarantine lasts unless an operator ends it sooner
 */
public record QuarantineConfig(int window, int threshold, Duration expiry) {
  public static final QuarantineConfig DEFAULT =
      new QuarantineConfig(20, 3, Duration.ofSeconds(60));

  public QuarantineConfig {
    if (window < 1 || window > 1_000) {
      throw new IllegalArgumentException("quarantine window must be 1..1000 votes, got " + window);
    }
    if (threshold < 1 || threshold > window) {
      throw new IllegalArgumentException(
          "quarantine threshold must be 1.." + window + " (the window), got " + threshold);
    }
    if (expiry.isNegative() || expiry.isZero()) {
      throw new IllegalArgumentException(
          "quarantine expiry must be positive, got " + expiry.toMillis() + " ms");
    }
  }
}
