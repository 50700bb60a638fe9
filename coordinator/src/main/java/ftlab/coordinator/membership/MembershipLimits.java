package ftlab.coordinator.membership;

import java.time.Duration;

/**
 * What keeps the membership table honest when anyone can send it a heartbeat (plaintext mode has no
 * identities, so a forged or mistaken beat must not do lasting harm):
 *
 * <pre>
 *   at most maxNodes members        (default 128): a new id beyond that takes the place of the
 *                                   member DEAD or LEFT the longest (over 2 s), or is refused
 *   DEAD and LEFT members forgotten after forgetAfter   (default 5 min)
 *   an incarnation more than incarnationLeeway ahead of this coordinator's clock is not believed
 *                                   (default 60 s)
 * </pre>
 *
 * <p>Why these defaults: 128 nodes is far more than a lab on one machine or a workshop room runs
 * (the scale benchmark goes to 8), and few enough that {@code ftlab status} stays readable and the
 * picker's scan cheap. Five minutes, not memberlist's 30 s: memberlist forgets quickly because dead
 * entries cost gossip bandwidth; here they cost a line in {@code ftlab status}, which is where a
 * learner looks for the node they stopped a few minutes ago; and a full table makes room by
 * forgetting the longest-gone member first, so the long wait never shuts out a new node. A node's
 * incarnation is its start time in milliseconds; 60 s allows for clocks of machines in a workshop
 * that are not in sync, and a forged incarnation can be at most that far ahead, so a real node that
 * restarts a minute later wins again.
 *
 * @param maxNodes members this coordinator tracks at most
 * @param forgetAfter how long a DEAD or LEFT member stays in the table (and in status)
 * @param incarnationLeeway how far ahead of this coordinator's clock an incarnation may be
 */
public record MembershipLimits(int maxNodes, Duration forgetAfter, Duration incarnationLeeway) {
  public static final MembershipLimits DEFAULT =
      new MembershipLimits(128, Duration.ofMinutes(5), Duration.ofSeconds(60));

  public MembershipLimits {
    if (maxNodes < 1 || maxNodes > 100_000) {
      throw new IllegalArgumentException("max nodes must be 1..100000, got " + maxNodes);
    }
    if (forgetAfter.isNegative() || forgetAfter.isZero() || forgetAfter.toDays() > 7) {
      throw new IllegalArgumentException(
          "forget-after must be more than 0 and at most 7 days, got "
              + forgetAfter.toSeconds()
              + " s");
    }
    if (incarnationLeeway.isNegative()) {
      throw new IllegalArgumentException(
          "incarnation leeway must not be negative, got " + incarnationLeeway.toMillis() + " ms");
    }
  }
}
