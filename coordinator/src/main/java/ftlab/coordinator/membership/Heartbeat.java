package ftlab.coordinator.membership;

/**
 * One heartbeat as the membership needs it (the wire form is {@code ftlab.v1.HeartbeatRequest}).
 *
 * @param incarnation changes each time the node process starts
 * @param sequence counts beats within one incarnation, from 1
 */
public record Heartbeat(
    String nodeId, String address, long incarnation, long sequence, int inFlight, int capacity) {
  public Heartbeat {
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
