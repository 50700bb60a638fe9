package ftlab.node;

import ftlab.node.faults.FaultPlan;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * What only a node knows, as meters: how its tasks ended, how many run now, and the faults injected
 * into it. Every meter and when it changes: docs/metrics.md.
 */
public final class NodeMeters implements TaskListener {
  private final Map<TaskOutcome, Counter> tasks = new EnumMap<>(TaskOutcome.class);

  public NodeMeters(MeterRegistry registry, NodeServer node) {
    for (TaskOutcome o : TaskOutcome.values()) {
      tasks.put(
          o,
          Counter.builder("ftlab.worker.tasks")
              .description(
                  "Tasks that reached this node, counted as each is answered, by outcome: answered,"
                      + " lied (a wrong result on purpose), injected_error, busy (refused at"
                      + " capacity), draining, invalid, cancelled (the caller gave up), stopped"
                      + " (by a shutdown)")
              .tag("outcome", o.word())
              .register(registry));
    }
    Gauge.builder("ftlab.worker.running", node::tasksRunning)
        .description("Tasks this node is computing right now (each holds one of its slots)")
        .baseUnit("tasks")
        .register(registry);
    Gauge.builder("ftlab.worker.capacity", node::capacity)
        .description("Tasks this node computes at once; one more is refused as busy")
        .baseUnit("tasks")
        .register(registry);
    fault(registry, node, "slow", f -> f.slow() != null);
    fault(registry, node, "error", f -> f.errors() != null);
    fault(registry, node, "lie", f -> f.lie() != null);
    fault(registry, node, "freeze", FaultPlan::freeze);
    fault(registry, node, "mute_heartbeats", FaultPlan::muteHeartbeats);
  }

  private static void fault(
      MeterRegistry registry, NodeServer node, String fault, Predicate<FaultPlan> active) {
    Gauge.builder("ftlab.worker.fault.active", () -> active.test(node.faults()) ? 1 : 0)
        .description(
            "1 while this kind of fault is injected into the node (ftlab chaos, --faults), else 0")
        .tag("fault", fault)
        .register(registry);
  }

  @Override
  public void taskEnded(TaskOutcome outcome) {
    tasks.get(outcome).increment();
  }
}
