package ftlab.coordinator.membership;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * How many times each node went SUSPECT at this coordinator (what {@code ftlab status} shows as
 * SUSPECTED): a listener on the membership events, so that the state machine only says what
 * happened and counting stays out of it.
 */
final class SuspicionCounts implements Consumer<MembershipEvent> {
  private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

  @Override
  public void accept(MembershipEvent e) {
    if (e instanceof MembershipEvent.Transition t && t.to() == NodeState.SUSPECT) {
      counts.computeIfAbsent(t.nodeId(), id -> new AtomicLong()).incrementAndGet();
    } else if (e instanceof MembershipEvent.Forgotten f) {
      counts.remove(f.nodeId());
    }
  }

  long of(String nodeId) {
    AtomicLong n = counts.get(nodeId);
    return n == null ? 0 : n.get();
  }
}
