package ftlab.client.scenario;

import ftlab.client.Coordinators;
import ftlab.proto.CoordinatorAdminGrpc;
import ftlab.proto.HeartbeatRequest;
import ftlab.proto.Load;
import ftlab.proto.MembershipGrpc;
import ftlab.proto.Redundancy;
import ftlab.proto.RedundancyMode;
import ftlab.proto.SetRedundancyRequest;
import ftlab.security.Identity;
import ftlab.security.LabCertificates;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One try of an attacker's (the security lab's {@code do: attack}): a call that the cluster's
 * defences should refuse, shown with a certificate of the lab's (by its name: node-3's speaking for
 * node-1, the client's switching the mode), with none ({@value ScenarioFile#NO_CERTIFICATE}: a
 * plaintext caller) or with an admin's certificate from an authority of the attacker's own ({@value
 * ScenarioFile#SELF_MADE}). On a plaintext cluster nobody asks for a certificate, so every try is a
 * plaintext call. Each try has a channel of its own, closed after its one call: an open channel
 * would dial again and again, and each handshake would be refused (and counted) again.
 */
final class Attack {
  /** How the call ended: refused (with the status, in words), or got through (what it did). */
  record Result(boolean refused, String words) {}

  private static final long DEADLINE_MS = 5_000;

  /**
   * How a defence says no: the table, the identity check or a revocation (PERMISSION_DENIED), the
   * handshake (UNAVAILABLE: the connection is closed), the membership's guards (ALREADY_EXISTS,
   * FAILED_PRECONDITION), a limit (RESOURCE_EXHAUSTED). Which layer it was, the coordinator's count
   * says.
   */
  private static final Set<Status.Code> DEFENCES =
      EnumSet.of(
          Status.Code.PERMISSION_DENIED,
          Status.Code.UNAVAILABLE,
          Status.Code.ALREADY_EXISTS,
          Status.Code.FAILED_PRECONDITION,
          Status.Code.RESOURCE_EXHAUSTED);

  /** The lab's certificates (mutual TLS), or empty: plaintext. */
  private final Optional<Path> lab;

  private final String as;

  Attack(Optional<Path> lab, String as) {
    this.lab = lab;
    this.as = as;
  }

  /** "node-3's certificate", "the client's certificate". */
  static String certificate(String name) {
    return (name.equals("client") || name.equals("admin") ? "the " : "") + name + "'s certificate";
  }

  /** Who the attacker shows itself as, in words. */
  String who() {
    if (lab.isEmpty()) {
      return "a caller in plaintext (nobody asks for a certificate)";
    }
    return switch (as) {
      case ScenarioFile.NO_CERTIFICATE -> "a caller with no certificate (plaintext)";
      case ScenarioFile.SELF_MADE -> "a caller with an admin's certificate from its own authority";
      default -> "a caller showing " + certificate(as);
    };
  }

  /**
   * A heartbeat in {@code node}'s name, as a restart of it (its incarnation + 1) at {@code
   * address}, to the coordinator at {@code coordinator}.
   */
  Result impersonate(String coordinator, String node, long incarnation, String address) {
    HeartbeatRequest beat =
        HeartbeatRequest.newBuilder()
            .setNodeId(node)
            .setAddress(address)
            .setIncarnation(incarnation + 1)
            .setSequence(1)
            .setIntervalMs(100)
            .setLoad(Load.newBuilder().setCapacity(4))
            .build();
    return call(
        coordinator,
        channel -> {
          var reply =
              MembershipGrpc.newBlockingStub(channel)
                  .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                  .heartbeat(beat);
          return "got through: "
              + reply.getCoordinatorId()
              + " took the heartbeat for "
              + node
              + " ("
              + reply.getState()
              + ")";
        });
  }

  /** Asks the coordinator at {@code coordinator} to switch to vote x3. */
  Result switchMode(String coordinator) {
    return call(
        coordinator,
        channel -> {
          var reply =
              CoordinatorAdminGrpc.newBlockingStub(channel)
                  .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                  .setRedundancy(
                      SetRedundancyRequest.newBuilder()
                          .setRedundancy(
                              Redundancy.newBuilder().setMode(RedundancyMode.VOTE).setReplicas(3))
                          .build());
          return "got through: " + reply.getCoordinatorId() + " switched to vote x3";
        });
  }

  private interface Call {
    String on(ManagedChannel channel);
  }

  private Result call(String address, Call call) {
    Path selfMade = null;
    ManagedChannel channel = null;
    try {
      ChannelCredentials credentials;
      if (lab.isEmpty() || as.equals(ScenarioFile.NO_CERTIFICATE)) {
        credentials = InsecureChannelCredentials.create();
      } else if (as.equals(ScenarioFile.SELF_MADE)) {
        selfMade = Files.createTempDirectory("ftlab-self-made-");
        Identity admin = new Identity(Role.ADMIN, "admin");
        LabCertificates.openOrCreate(selfMade, Duration.ofDays(1)).issue(admin, Duration.ofDays(1));
        credentials =
            TlsChannelCredentials.newBuilder()
                .keyManager(
                    selfMade.resolve("admin.pem").toFile(), selfMade.resolve("admin.key").toFile())
                // an attacker does not care whom it talks to (and the lab's certificates name no
                // host): the coordinator's side of the handshake is what is tried
                .trustManager(InsecureTrustManagerFactory.INSTANCE.getTrustManagers())
                .build();
      } else {
        credentials = TlsFiles.read(lab.get(), as).channel(Role.COORDINATOR);
      }
      channel = Grpc.newChannelBuilder(address, credentials).build();
      return new Result(false, call.on(channel));
    } catch (StatusRuntimeException e) {
      if (!DEFENCES.contains(e.getStatus().getCode())) {
        // no answer in time, a call cut off: not a refusal, and nothing was tried
        throw new IllegalStateException(
            "the attack did not reach " + address + ": " + Coordinators.explain(e), e);
      }
      return new Result(true, Coordinators.explain(e));
    } catch (IOException e) {
      throw new UncheckedIOException("the attacker's certificate: " + e.getMessage(), e);
    } finally {
      if (channel != null) {
        channel.shutdownNow();
      }
      if (selfMade != null) {
        delete(selfMade);
      }
    }
  }

  private static void delete(Path dir) {
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a temporary folder: the system's clean-up takes it
    }
  }
}
