package ftlab.coordinator.dispatch;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who hears the dispatch's events. A listener that throws (anything, even an Error) is logged and
 * the others still hear; the request goes on.
 */
final class DispatchListeners {
  private static final Logger log = LoggerFactory.getLogger("dispatch");

  private final List<Guarded> listeners = new CopyOnWriteArrayList<>();

  void add(DispatchListener l) {
    listeners.add(new Guarded(l));
  }

  /** Those listening now: a request hears from its start to its end exactly these. */
  List<Guarded> now() {
    return List.copyOf(listeners);
  }

  static void deliver(List<Guarded> to, List<DispatchEvent> events) {
    for (Guarded l : to) {
      for (DispatchEvent e : events) {
        l.on(e);
      }
    }
  }

  /** A listener whose failures are logged (the first with its stack, then every 1000th). */
  static final class Guarded {
    private final DispatchListener listener;
    private final AtomicLong failures = new AtomicLong();

    Guarded(DispatchListener listener) {
      this.listener = listener;
    }

    void on(DispatchEvent e) {
      try {
        listener.on(e);
      } catch (Throwable t) { // a broken meter must not stop a request
        long n = failures.incrementAndGet();
        if (n == 1) {
          log.warn("a dispatch listener failed on {}", e.getClass().getSimpleName(), t);
        } else if (n % 1000 == 0) {
          log.warn("a dispatch listener has failed {} times; the last: {}", n, t.toString());
        }
      }
    }
  }
}
