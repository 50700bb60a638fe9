package ftlab.client.bench;

/**
 * How a benchmark breaks a node and mends it: signals to local processes ({@code kill -9}, {@code
 * kill -STOP}, {@code kill}) or Docker commands ({@code docker kill}, {@code pause}, {@code stop}).
 * The benchmark itself only measures; this is its one port to the outside.
 */
interface FaultInjector {
  /** How the fault is applied, in the words of the command a learner types: "SIGKILL". */
  String name(NodeFault fault);

  /** Applies the fault to the node, and returns as soon as it is applied. */
  void apply(NodeFault fault, String node) throws Exception;

  /** Undoes the fault: thaws the node, or starts it again once it has exited. */
  void undo(NodeFault fault, String node) throws Exception;
}
