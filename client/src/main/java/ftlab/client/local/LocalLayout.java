package ftlab.client.local;

import java.util.ArrayList;
import java.util.List;

/**
 * The shape of a local cluster: how many coordinators and nodes, and their ports. Coordinator i
 * listens on {@code coordinatorBasePort + i - 1}, node i on {@code nodeBasePort + i - 1}, and each
 * serves its metrics over HTTP on its port + {@value #HTTP_PORT_OFFSET} (7001: 8001).
 *
 * @param capacity tasks each node computes at once
 * @param heartbeatIntervalMs passed to every node and coordinator, so that they agree
 * @param metrics whether the members serve metrics (and keep meters at all); off only to measure
 *     what they cost
 */
public record LocalLayout(
    int coordinators,
    int nodes,
    int coordinatorBasePort,
    int nodeBasePort,
    int capacity,
    int heartbeatIntervalMs,
    boolean metrics) {

  /** A member's HTTP port (its metrics) is its gRPC port plus this, as in the compose lab. */
  public static final int HTTP_PORT_OFFSET = 1000;

  /** 2 coordinators on 7001-7002 and 5 nodes on 7101-7105, as in the labs. */
  public static final LocalLayout DEFAULT = new LocalLayout(2, 5, 7001, 7101, 4, 100);

  /** A layout whose members serve metrics. */
  public LocalLayout(
      int coordinators,
      int nodes,
      int coordinatorBasePort,
      int nodeBasePort,
      int capacity,
      int heartbeatIntervalMs) {
    this(
        coordinators,
        nodes,
        coordinatorBasePort,
        nodeBasePort,
        capacity,
        heartbeatIntervalMs,
        true);
  }

  /** The same layout, its members keeping no meters and serving no metrics. */
  public LocalLayout withoutMetrics() {
    return new LocalLayout(
        coordinators,
        nodes,
        coordinatorBasePort,
        nodeBasePort,
        capacity,
        heartbeatIntervalMs,
        false);
  }

  public LocalLayout {
    if (coordinators < 1 || coordinators > 9) {
      throw new IllegalArgumentException(
          "number of coordinators must be between 1 and 9, got " + coordinators);
    }
    if (nodes < 1 || nodes > 50) {
      throw new IllegalArgumentException("number of nodes must be between 1 and 50, got " + nodes);
    }
    checkPorts("coordinator", coordinatorBasePort, coordinators);
    checkPorts("node", nodeBasePort, nodes);
    boolean overlap =
        coordinatorBasePort < nodeBasePort + nodes
            && nodeBasePort < coordinatorBasePort + coordinators;
    if (overlap) {
      throw new IllegalArgumentException(
          "coordinator ports "
              + range(coordinatorBasePort, coordinators)
              + " overlap node ports "
              + range(nodeBasePort, nodes));
    }
    // the HTTP ports (each gRPC port + HTTP_PORT_OFFSET) must not land on a gRPC port either
    int coordinatorHttp = coordinatorBasePort + HTTP_PORT_OFFSET;
    int nodeHttp = nodeBasePort + HTTP_PORT_OFFSET;
    if (overlaps(coordinatorHttp, coordinators, nodeBasePort, nodes)
        || overlaps(nodeHttp, nodes, coordinatorBasePort, coordinators)) {
      throw new IllegalArgumentException(
          "the members' HTTP ports (each gRPC port + "
              + HTTP_PORT_OFFSET
              + ": "
              + range(coordinatorHttp, coordinators)
              + " and "
              + range(nodeHttp, nodes)
              + ") overlap their gRPC ports "
              + range(coordinatorBasePort, coordinators)
              + " and "
              + range(nodeBasePort, nodes));
    }
    if (capacity < 1) {
      throw new IllegalArgumentException("node capacity must be at least 1, got " + capacity);
    }
    if (heartbeatIntervalMs < 1) {
      throw new IllegalArgumentException(
          "heartbeat interval must be at least 1 ms, got " + heartbeatIntervalMs);
    }
  }

  private static boolean overlaps(int base1, int count1, int base2, int count2) {
    return base1 < base2 + count2 && base2 < base1 + count1;
  }

  private static void checkPorts(String what, int base, int count) {
    if (base < 1024 || base + count - 1 + HTTP_PORT_OFFSET > 65535) {
      throw new IllegalArgumentException(
          what
              + " ports out of range: "
              + range(base, count)
              + " (allowed: 1024-"
              + (65535 - HTTP_PORT_OFFSET)
              + ", since each member's HTTP port is "
              + HTTP_PORT_OFFSET
              + " above)");
    }
  }

  private static String range(int base, int count) {
    return count == 1 ? Integer.toString(base) : base + "-" + (base + count - 1);
  }

  /**
   * A layout on a block of loopback ports that are free right now ({@link #freePortBlock}): for
   * tests and benchmarks that must not collide with a cluster already running.
   */
  public static LocalLayout onFreePorts(int coordinators, int nodes, int capacity) {
    int base = freePortBlock(10 + nodes);
    for (int tries = 0; tries < 50 && !allFree(base + HTTP_PORT_OFFSET, 10 + nodes); tries++) {
      base = freePortBlock(10 + nodes); // and their HTTP ports free too
    }
    return new LocalLayout(coordinators, nodes, base, base + 10, capacity, 100);
  }

  /** Where ports are picked from: from here up to the first port the kernel hands out itself. */
  private static final int LOWEST_PICKED_PORT = 20_000;

  /**
   * The first of {@code size} consecutive loopback ports that are free right now, at a random place
   * from 20000 up to, not into, the kernel's range of ephemeral ports (the source ports of outgoing
   * connections; 32768-60999 on Linux). Outside that range, none of the cluster's own outgoing
   * connections (heartbeats, calls, reconnects) can take one of its ports before the process meant
   * to listen there has started, or while it is down, when a reconnect to it could otherwise even
   * connect to itself.
   */
  public static int freePortBlock(int size) {
    int top = ephemeralPortsFrom() - size - HTTP_PORT_OFFSET;
    if (top - LOWEST_PICKED_PORT < 1_000) {
      // a machine whose ephemeral ports start low (1024, say) leaves no such room: pick among
      // them, checked free, as well as can be done
      top = 60_000 - size;
    }
    for (int tries = 0; tries < 50; tries++) {
      int base =
          LOWEST_PICKED_PORT
              + java.util.concurrent.ThreadLocalRandom.current().nextInt(top - LOWEST_PICKED_PORT);
      if (allFree(base, size)) {
        return base;
      }
    }
    throw new IllegalStateException("found no block of " + size + " free ports on 127.0.0.1");
  }

  private static boolean allFree(int base, int size) {
    for (int p = base; p < base + size; p++) {
      if (!isFree(p)) {
        return false;
      }
    }
    return true;
  }

  /** The first ephemeral port, from /proc on Linux; 32768 (Linux's default) elsewhere. */
  static int ephemeralPortsFrom() {
    try {
      // line by line: Files.readString gets only "3" of "32768\t60999" from this sysctl file
      String range =
          java.nio.file.Files.readAllLines(
                  java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
              .get(0);
      return Integer.parseInt(range.strip().split("\\s+")[0]);
    } catch (java.io.IOException | RuntimeException e) {
      return 32_768;
    }
  }

  static boolean isFree(int port) {
    try (java.net.ServerSocket s = new java.net.ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  public String coordinatorName(int i) {
    return "coordinator-" + i;
  }

  public String nodeName(int i) {
    return "node-" + i;
  }

  /** host:port of node i, on the loopback interface. */
  public String nodeAddress(int i) {
    return "127.0.0.1:" + (nodeBasePort + i - 1);
  }

  /** Every coordinator's dashboard, as its {@code --dashboards} setting lists them. */
  public String dashboards() {
    List<String> out = new ArrayList<>();
    for (int i = 1; i <= coordinators; i++) {
      out.add(
          coordinatorName(i)
              + "=http://127.0.0.1:"
              + (coordinatorBasePort + i - 1 + HTTP_PORT_OFFSET)
              + "/");
    }
    return String.join(",", out);
  }

  /** host:port of every coordinator, on the loopback interface. */
  public List<String> coordinatorAddresses() {
    List<String> out = new ArrayList<>();
    for (int i = 1; i <= coordinators; i++) {
      out.add("127.0.0.1:" + (coordinatorBasePort + i - 1));
    }
    return out;
  }
}
