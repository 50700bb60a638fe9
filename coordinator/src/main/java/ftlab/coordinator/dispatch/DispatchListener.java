package ftlab.coordinator.dispatch;

/**
 * Hears every {@link DispatchEvent}. One request's events come one at a time and in order, but from
 * whichever thread acts for the request (the coordinator's network thread, its timer thread), and
 * different requests' events come at the same time: a listener must be thread-safe, quick, and must
 * not block (it runs before the request's next calls are made). Whatever it throws is logged and
 * disturbs nothing.
 */
@FunctionalInterface
public interface DispatchListener {
  void on(DispatchEvent event);
}
