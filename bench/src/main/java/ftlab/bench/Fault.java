package ftlab.bench;

import ftlab.proto.NodeState;

/**
 * One way a failover benchmark takes a node away, and brings it back: a signal to a local process
 * ({@code kill -9}), a Docker command ({@code docker pause}), or a fault injected into the node
 * ({@code freeze}). The benchmark only measures; this is its one port to the outside.
 *
 * @param name how the fault is applied, in the words of the command a learner types: "SIGKILL"
 * @param expected the state every coordinator should put the node in: DEAD, or LEFT for a goodbye
 * @param apply applies the fault to the node, and returns as soon as it is applied
 * @param undo undoes it: thaws the node, heals it, or starts it again once it has exited
 */
record Fault(String name, NodeState expected, Action apply, Action undo) {

  /** Something done to a node, by name. */
  @FunctionalInterface
  interface Action {
    void on(String node) throws Exception;
  }
}
