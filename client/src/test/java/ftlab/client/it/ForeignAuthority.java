package ftlab.client.it;

import ftlab.security.Identity;
import ftlab.security.LabCertificates;
import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;

/**
 * A rogue's certificate: issued by an authority of its own, not the lab's, in a temporary folder
 * that {@link #close} deletes (it holds that authority's key).
 */
final class ForeignAuthority implements AutoCloseable {
  private final Path dir;
  private final Identity identity;

  ForeignAuthority(Identity identity) throws IOException {
    this.identity = identity;
    this.dir = Files.createTempDirectory("ftlab-foreign-");
    LabCertificates.openOrCreate(dir, Duration.ofDays(1)).issue(identity, Duration.ofDays(1));
  }

  /**
   * Credentials that show the foreign certificate and trust any server: the server's side of the
   * handshake is what is tested.
   */
  ChannelCredentials credentials() throws IOException {
    return TlsChannelCredentials.newBuilder()
        .keyManager(
            dir.resolve(identity.name() + ".pem").toFile(),
            dir.resolve(identity.name() + ".key").toFile())
        .trustManager(InsecureTrustManagerFactory.INSTANCE.getTrustManagers())
        .build();
  }

  @Override
  public void close() throws IOException {
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }
}
