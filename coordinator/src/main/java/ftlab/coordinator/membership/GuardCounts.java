package ftlab.coordinator.membership;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * What the membership's guards did at this coordinator (what {@code ftlab status} shows under the
 * header): heartbeats refused, id conflicts, and the latest of these in words. A listener on the
 * membership events, like {@link SuspicionCounts}.
 */
final class GuardCounts implements Consumer<MembershipEvent> {
  private final LongSupplier nanoClock;
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong conflicts = new AtomicLong();

  /** The latest guard event and when it was heard, replaced together. */
  private volatile Latest latest;

  record Latest(String describe, long atNanos) {}

  GuardCounts(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  @Override
  public void accept(MembershipEvent e) {
    if (!(e instanceof MembershipEvent.Refused r)) {
      return;
    }
    refused.incrementAndGet();
    if (r.newClaim()) {
      conflicts.incrementAndGet();
    }
    latest = new Latest(e.describe(), nanoClock.getAsLong());
  }

  long refused() {
    return refused.get();
  }

  long conflicts() {
    return conflicts.get();
  }

  /** The latest guard event, or null if there was none. */
  Latest latest() {
    return latest;
  }
}
