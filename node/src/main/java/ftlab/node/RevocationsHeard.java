package ftlab.node;

import ftlab.proto.HeartbeatReply;
import ftlab.security.Identity;
import ftlab.security.Revocations;
import ftlab.security.Role;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a revocation reaches a node: every coordinator's heartbeat reply lists the names it revokes
 * ({@code ftlab revoke}); the node refuses them too from then on (a revoked admin can no longer
 * inject faults, a revoked coordinator no longer gets answers), and keeps them in its own folder's
 * {@code revoked} file, so that it still refuses them after a restart. Only replies that came over
 * mutual TLS from a coordinator's certificate get here (the node's channels check it), named by
 * that certificate; a coordinator whose own certificate is revoked here is not listened to.
 */
final class RevocationsHeard implements Consumer<HeartbeatReply> {
  private static final Logger log = LoggerFactory.getLogger("security");

  private final String nodeId;
  private final Revocations revocations;
  private final Path folder;

  RevocationsHeard(String nodeId, Revocations revocations, Path folder) {
    this.nodeId = nodeId;
    this.revocations = revocations;
    this.folder = folder;
  }

  /** Revoked coordinators whose lists were ignored already (said once each). */
  private final java.util.Set<String> ignored = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @Override
  public void accept(HeartbeatReply reply) {
    // (coordinator_id is the name its certificate gives: CoordinatorNameFromCertificate)
    if (revocations.of(new Identity(Role.COORDINATOR, reply.getCoordinatorId())).isPresent()) {
      if (ignored.add(reply.getCoordinatorId())) {
        log.warn(
            "{} ignores what {} says about revocations: its own certificate is revoked",
            nodeId,
            reply.getCoordinatorId());
      }
      return;
    }
    List<Revocations.Change> changes =
        revocations.hear(
            reply.getCoordinatorId(), reply.getRevokedList(), System.currentTimeMillis());
    for (Revocations.Change c : changes) {
      log.warn(
          "{} {} {}: {} says so (its heartbeat reply)",
          nodeId,
          c.undo() ? "no longer refuses" : "refuses the certificate",
          c.name(),
          c.by());
      try {
        Revocations.write(folder, c.name(), c.undo(), "told by " + c.by());
      } catch (IOException e) {
        log.warn(
            "{} could not keep it in {}: {} (it refuses {} until it restarts)",
            nodeId,
            folder.resolve(Revocations.FILE),
            e.getMessage(),
            c.name());
      }
    }
  }
}
