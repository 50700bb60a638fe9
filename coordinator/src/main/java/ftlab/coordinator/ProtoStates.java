package ftlab.coordinator;

import ftlab.coordinator.membership.NodeState;

/** Maps the membership's states to their wire form. */
final class ProtoStates {
  private ProtoStates() {}

  static ftlab.proto.NodeState toProto(NodeState state) {
    return switch (state) {
      case ALIVE -> ftlab.proto.NodeState.ALIVE;
      case SUSPECT -> ftlab.proto.NodeState.SUSPECT;
      case DEAD -> ftlab.proto.NodeState.DEAD;
      case LEFT -> ftlab.proto.NodeState.LEFT;
      case QUARANTINED -> ftlab.proto.NodeState.QUARANTINED;
    };
  }
}
