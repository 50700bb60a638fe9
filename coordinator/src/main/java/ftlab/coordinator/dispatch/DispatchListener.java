package ftlab.coordinator.dispatch;

/**
 * Hears every {@link DispatchEvent}, on the thread that released the request's lock (often the
 * coordinator's one network thread): it must be quick and must not block. An exception it throws is
 * logged and does not disturb the request.
 */
@FunctionalInterface
public interface DispatchListener {
  void on(DispatchEvent event);
}
