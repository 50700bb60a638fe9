package ftlab.node;

/**
 * Hears how each task ended on this node (metrics subscribe). Called on the task's own thread, as
 * its caller is answered: it must be thread-safe and quick. Whatever it throws is logged and
 * disturbs nothing.
 */
@FunctionalInterface
public interface TaskListener {
  void taskEnded(TaskOutcome outcome);
}
