package ftlab.client.bench;

import ftlab.proto.NodeState;

/** The three ways a node goes away in the failover benchmarks, and what a coordinator concludes. */
enum NodeFault {
  /** A crash: the process is gone, its port refuses connections. Undone by a restart. */
  CRASH(NodeState.DEAD),
  /** A freeze: the process and its port stay, nothing answers. Undone by thawing it. */
  FREEZE(NodeState.DEAD),
  /** A graceful stop: the node says goodbye first. Undone by a restart. */
  LEAVE(NodeState.LEFT);

  /** The state every coordinator should put the node in. */
  final NodeState expected;

  NodeFault(NodeState expected) {
    this.expected = expected;
  }
}
