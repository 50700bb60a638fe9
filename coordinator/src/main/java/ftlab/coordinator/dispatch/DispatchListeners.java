package ftlab.coordinator.dispatch;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Who hears the dispatch's events; a listener that throws is logged and the others still hear. */
final class DispatchListeners {
  private static final Logger log = LoggerFactory.getLogger("dispatch");

  private final List<DispatchListener> listeners = new CopyOnWriteArrayList<>();

  void add(DispatchListener l) {
    listeners.add(l);
  }

  /** Whether anyone listens: a request with no listener builds no events at all. */
  boolean any() {
    return !listeners.isEmpty();
  }

  void publish(List<DispatchEvent> events) {
    for (DispatchListener l : listeners) {
      for (DispatchEvent e : events) {
        try {
          l.on(e);
        } catch (RuntimeException ex) {
          log.warn(
              "a dispatch listener failed on {}: {}", e.getClass().getSimpleName(), ex.toString());
        }
      }
    }
  }
}
