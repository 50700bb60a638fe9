package ftlab.client.admin;

import ftlab.client.CoordinatorOption;
import ftlab.client.Coordinators;
import ftlab.proto.ReadmitReply;
import ftlab.security.Role;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code ftlab readmit NODE}: take a quarantined node back, at every coordinator. */
@Command(
    name = "readmit",
    mixinStandardHelpOptions = true,
    description = {
      "Take a QUARANTINED node back at every coordinator: it gets work again.",
      "A node is quarantined when it is outvoted too often in vote mode (it may be lying); the"
          + " quarantine also ends by itself after 60 s."
    })
public final class ReadmitCommand implements Callable<Integer> {
  @Mixin CoordinatorOption coordinatorOption;

  @Parameters(paramLabel = "NODE", description = "The node's id, e.g. node-4.")
  String node;

  @Override
  public Integer call() {
    int ok = 0;
    try (Coordinators coordinators =
        Coordinators.connected(
            coordinatorOption.resolve(),
            coordinatorOption.credentials("admin", Role.COORDINATOR))) {
      for (int i = 0; i < coordinators.size(); i++) {
        String where = coordinators.address(i);
        try {
          ReadmitReply reply = coordinators.readmit(i, node);
          System.out.printf(
              "%s at %s: %s readmitted, now %s%n",
              reply.getCoordinatorId(), where, reply.getNodeId(), reply.getState());
          ok++;
        } catch (StatusRuntimeException e) {
          System.out.println("coordinator at " + where + ": " + Coordinators.explain(e));
        }
      }
    }
    return ok > 0 ? 0 : 1;
  }
}
