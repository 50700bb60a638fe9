package ftlab.client.admin;

import ftlab.client.CoordinatorOption;
import ftlab.client.Coordinators;
import ftlab.proto.RevokeReply;
import ftlab.security.Revocations;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ftlab revoke NAME}: every coordinator refuses that certificate from now on. */
@Command(
    name = "revoke",
    mixinStandardHelpOptions = true,
    description = {
      "Revoke a certificate by its name, at every coordinator (mutual TLS only, as an admin):"
          + " every coordinator refuses every call with it from now on, and a node of that name"
          + " gets no more work at once (LEFT).",
      "Each coordinator writes the name into the 'revoked' file of its own certificate folder,"
          + " and this command into its own (--tls-dir); every process reads the file in its"
          + " folder when it starts. The nodes hear of it in the coordinators' next heartbeat"
          + " replies, refuse it too, and keep it in their own folder's 'revoked' file. A"
          + " coordinator that was down does not hear of it: revoke again once it is up.",
      "--undo takes it back: the node is ALIVE again at its next heartbeat."
    })
public final class RevokeCommand implements Callable<Integer> {
  @Mixin CoordinatorOption coordinatorOption;

  @Parameters(paramLabel = "NAME", description = "The certificate's name, e.g. node-4 or client.")
  String name;

  @Option(names = "--undo", description = "Take the revocation back.")
  boolean undo;

  @Override
  public Integer call() {
    try {
      new ftlab.security.Identity(Role.NODE, name); // a certificate's name, not a path or a line
    } catch (IllegalArgumentException e) {
      System.out.println("cannot revoke: " + e.getMessage());
      return 2;
    }
    Optional<TlsFiles> tls = coordinatorOption.tls("admin");
    if (tls.isEmpty()) {
      System.out.println(
          "revocation needs mutual TLS: give the certificate folder with --tls-dir (or run it on a"
              + " local cluster started with 'ftlab local up --tls')");
      return 1;
    }
    int ok = 0;
    int asked;
    try (Coordinators coordinators =
        Coordinators.connected(
            coordinatorOption.resolve(),
            coordinatorOption.credentials("admin", Role.COORDINATOR))) {
      asked = coordinators.size();
      for (int i = 0; i < coordinators.size(); i++) {
        String where = coordinators.address(i);
        try {
          RevokeReply reply = coordinators.revoke(i, name, undo);
          System.out.printf(
              "%s at %s: %s %s%s%n",
              reply.getCoordinatorId(),
              where,
              name,
              undo
                  ? (reply.getChanged() ? "is no longer revoked" : "was not revoked")
                  : (reply.getChanged() ? "revoked" : "was revoked already"),
              (!reply.getKnownNode()
                      ? ""
                      : "; the node is "
                          + reply.getNodeState()
                          + " here"
                          + (undo && reply.getNodeState() == ftlab.proto.NodeState.LEFT
                              ? " until its next heartbeat"
                              : ""))
                  + (reply.getKeptIn().isEmpty()
                      ? "; it could not write it into its folder (its log says why) and would"
                          + " forget it if restarted"
                      : (undo ? "; struck from its " : "; kept in its ") + reply.getKeptIn()));
          ok++;
        } catch (StatusRuntimeException e) {
          System.out.println("coordinator at " + where + ": " + Coordinators.explain(e));
        }
      }
    }
    if (ok == 0) {
      // nobody took it (not an admin, a self-revocation, no coordinator up): nothing recorded
      System.out.printf("no coordinator confirmed: %s not changed%n", Revocations.FILE);
      return 1;
    }
    try {
      Revocations.write(tls.get().dir(), name, undo);
      System.out.printf(
          "%s %s too: processes that start with this folder (--tls-dir) %s it%n",
          undo ? "removed from" : "written into",
          tls.get().dir().resolve(Revocations.FILE),
          undo ? "accept" : "refuse");
    } catch (IOException e) {
      System.out.printf(
          "could not write %s (%s): a coordinator restarted later will not know; run this again"
              + " then%n",
          tls.get().dir().resolve(Revocations.FILE), e.getMessage());
    }
    if (ok < asked) {
      System.out.printf(
          "%d of %d coordinators did not confirm: they still %s %s%n",
          asked - ok, asked, undo ? "refuse" : "accept", name);
      return 1;
    }
    return 0;
  }
}
