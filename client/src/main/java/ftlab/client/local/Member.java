package ftlab.client.local;

import java.util.List;

/**
 * One process of a local cluster, as recorded in the state file.
 *
 * @param role "coordinator" or "node"
 * @param startedAtMillis the process's start time, to tell it from a later process that reuses its
 *     PID
 * @param command the exact command line, so that {@code ftlab local start NAME} can start it again
 */
public record Member(
    String name, String role, long pid, long startedAtMillis, int port, List<String> command) {

  public Member {
    if (name == null || !name.matches("[a-z]+-\\d+")) {
      throw new IllegalArgumentException("member name must look like node-3, got '" + name + "'");
    }
    if (!COORDINATOR.equals(role) && !NODE.equals(role)) {
      throw new IllegalArgumentException(
          "member role must be coordinator or node, got '" + role + "'");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range for " + name + ": " + port);
    }
    if (pid < 0) {
      throw new IllegalArgumentException("negative PID for " + name + ": " + pid);
    }
    command = List.copyOf(command);
  }

  public static final String COORDINATOR = "coordinator";
  public static final String NODE = "node";

  public String address() {
    return "127.0.0.1:" + port;
  }

  /** Its HTTP port: {@code GET /metrics} there for its meters. */
  public int httpPort() {
    return port + LocalLayout.HTTP_PORT_OFFSET;
  }

  /** Where Prometheus (or a browser) reads its meters; "-" if it serves none. */
  public String metricsUrl() {
    int flag = command.indexOf("--http-port");
    if (flag >= 0 && flag + 1 < command.size() && command.get(flag + 1).equals("-1")) {
      return "-";
    }
    return "http://127.0.0.1:" + httpPort() + "/metrics";
  }

  public Member withProcess(long newPid, long newStartedAtMillis) {
    return new Member(name, role, newPid, newStartedAtMillis, port, command);
  }
}
