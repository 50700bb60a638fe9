package ftlab.coordinator.membership;

import ftlab.proto.BadRequests;
import ftlab.proto.Faults;
import java.util.Optional;

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
    NodeIds.problem(nodeId)
        .ifPresent(
            p -> {
              throw new IllegalArgumentException("heartbeat with a bad node id: " + p);
            });
    if (address == null || address.isBlank()) {
      throw new IllegalArgumentException("heartbeat from " + nodeId + " without an address");
    }
    addressProblem(address)
        .ifPresent(
            p -> {
              throw new IllegalArgumentException("heartbeat from " + nodeId + ": " + p);
            });
    if (sequence < 1) {
      throw new IllegalArgumentException(
          "heartbeat sequence must start at 1, got " + sequence + " from " + nodeId);
    }
    if (incarnation < 0) {
      throw new IllegalArgumentException(
          "heartbeat incarnation must not be negative, got " + incarnation + " from " + nodeId);
    }
    if (capacity < 0 || inFlight < 0) {
      throw new IllegalArgumentException(
          "heartbeat load must not be negative, got "
              + inFlight
              + " of "
              + capacity
              + " from "
              + nodeId);
    }
  }

  /** The longest address: a 253-character host name, a colon and a port. */
  static final int MAX_ADDRESS = 253 + 6;

  /**
   * Why this is not an address a coordinator could call, or empty: HOST:PORT, HOST a name, an IPv4
   * address or an IPv6 one in brackets, PORT 1 to 65535.
   */
  static Optional<String> addressProblem(String address) {
    if (address.length() > MAX_ADDRESS) {
      return Optional.of(
          "an address must be at most " + MAX_ADDRESS + " characters, got " + address.length());
    }
    int colon = address.lastIndexOf(':');
    String host = colon < 0 ? "" : address.substring(0, colon);
    String port = colon < 0 ? "" : address.substring(colon + 1);
    boolean hostOk =
        host.matches("[A-Za-z0-9._-]+") || host.matches("\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?]");
    int p = port.matches("\\d{1,5}") ? Integer.parseInt(port) : -1;
    if (!hostOk || p < 1 || p > 65535) {
      return Optional.of(
          "an address is HOST:PORT (a name or IPv4 address, or [IPv6]; port 1-65535), got "
              + BadRequests.quote(address));
    }
    return Optional.empty();
  }
}
