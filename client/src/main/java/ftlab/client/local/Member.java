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

  public static final String COORDINATOR = "coordinator";
  public static final String NODE = "node";

  public String address() {
    return "127.0.0.1:" + port;
  }

  public Member withProcess(long newPid, long newStartedAtMillis) {
    return new Member(name, role, newPid, newStartedAtMillis, port, command);
  }
}
