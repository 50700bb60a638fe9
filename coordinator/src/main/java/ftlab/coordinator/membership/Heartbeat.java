package ftlab.coordinator.membership;

import ftlab.proto.Faults;

/**
 * One heartbeat as the membership needs it (the wire form is {@code ftlab.v1.HeartbeatRequest}).
 *
 * @param incarnation changes each time the node process starts
 * @param sequence counts beats within one incarnation, from 1
 * @param faults the faults injected into the node and in force (the default instance: none)
 */
public record Heartbeat(
    String nodeId,
    String address,
    long incarnation,
    long sequence,
    int inFlight,
    int capacity,
    Faults faults) {

  /** A heartbeat from a node without injected faults. */
  public Heartbeat(
      String nodeId, String address, long incarnation, long sequence, int inFlight, int capacity) {
    this(nodeId, address, incarnation, sequence, inFlight, capacity, Faults.getDefaultInstance());
  }

  public Heartbeat {
    if (faults == null) {
      faults = Faults.getDefaultInstance();
    }
    if (nodeId == null || nodeId.isBlank()) {
      throw new IllegalArgumentException("heartbeat without a node id");
    }
    if (address == null || address.isBlank()) {
      throw new IllegalArgumentException("heartbeat from " + nodeId + " without an address");
    }
    if (sequence < 1) {
      throw new IllegalArgumentException(
          "heartbeat sequence must start at 1, got " + sequence + " from " + nodeId);
    }
  }
}
