package ftlab.client;

import ftlab.client.local.LocalCluster;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code --coordinators} option shared by the commands that talk to a cluster. Without it, they
 * talk to the local cluster started by {@code ftlab local up}. Its options are inherited, so that
 * they can also follow a subcommand ({@code ftlab chaos node-2 lie -c host:7001}).
 */
public final class CoordinatorOption {
  @Option(
      names = {"-c", "--coordinators"},
      scope = ScopeType.INHERIT,
      split = ",",
      paramLabel = "HOST:PORT",
      description =
          "Coordinators to talk to, comma-separated (env FTLAB_COORDINATORS). Default: those of the"
              + " local cluster started by 'ftlab local up'.")
  List<String> coordinators;

  @Option(
      names = "--dir",
      scope = ScopeType.INHERIT,
      description =
          "Without --coordinators: the local cluster's folder, as given to 'ftlab local up --dir'"
              + " (env FTLAB_LOCAL_DIR). Default: ~/.ftlab/local.")
  java.nio.file.Path dir;

  @Option(
      names = "--tls-dir",
      scope = ScopeType.INHERIT,
      paramLabel = "DIR",
      description =
          "Mutual TLS, for a cluster started with --tls-dir: show the certificate named by --as"
              + " from DIR, made by 'ftlab certs' (env FTLAB_TLS_DIR). Default: plaintext.")
  java.nio.file.Path tlsDir;

  @Option(
      names = "--as",
      scope = ScopeType.INHERIT,
      paramLabel = "NAME",
      description =
          "With --tls-dir, whose certificate to show (NAME.pem): a client may submit and read the"
              + " cluster, an admin may also switch modes, readmit and inject faults (env"
              + " FTLAB_AS). Default: client for watch and status, admin for the commands that"
              + " change the cluster.")
  String as;

  /**
   * The TLS material to show, or empty for plaintext.
   *
   * @param defaultName the certificate this command needs at least ("client", "admin")
   * @throws IllegalStateException with a sentence, if the folder or the certificate is wrong
   */
  public java.util.Optional<TlsFiles> tls(String defaultName) {
    java.nio.file.Path dir = tlsDir == null || tlsDir.toString().isBlank() ? null : tlsDir;
    if (dir == null) {
      String env = System.getenv("FTLAB_TLS_DIR");
      if (talksToLocalCluster()) {
        // the local cluster as it was started: its own certificates with --tls, else plaintext
        dir = localCluster().tlsDir().orElse(null);
      } else if (env != null && !env.isBlank()) {
        dir = java.nio.file.Path.of(env);
      }
      if (dir == null) {
        return java.util.Optional.empty();
      }
    }
    String name = as;
    if (name == null || name.isBlank()) {
      String env = System.getenv("FTLAB_AS");
      name = env == null || env.isBlank() ? defaultName : env;
    }
    try {
      return java.util.Optional.of(TlsFiles.read(dir, name));
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw new IllegalStateException("--tls-dir: " + e.getMessage(), e);
    }
  }

  /** The credentials of calls to {@code server}s: mutual TLS as {@link #tls} says, or plaintext. */
  public ChannelCredentials credentials(String defaultName, Role server) {
    java.util.Optional<TlsFiles> tls = tls(defaultName);
    if (tls.isEmpty()) {
      return InsecureChannelCredentials.create();
    }
    try {
      return tls.get().channel(server);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("--tls-dir: " + e.getMessage(), e);
    }
  }

  private LocalCluster localCluster() {
    return new LocalCluster(dir != null ? dir : LocalCluster.defaultStateDir(), null);
  }

  /** Whether the addresses come from the local cluster (no --coordinators, no env). */
  private boolean talksToLocalCluster() {
    String env = System.getenv("FTLAB_COORDINATORS");
    return (coordinators == null || coordinators.isEmpty()) && (env == null || env.isBlank());
  }

  /** The addresses to use, or a clear error saying how to get some. */
  public List<String> resolve() {
    if (coordinators != null && !coordinators.isEmpty()) {
      return coordinators;
    }
    String env = System.getenv("FTLAB_COORDINATORS");
    if (env != null && !env.isBlank()) {
      return List.of(env.split(","));
    }
    LocalCluster local = localCluster();
    List<String> addresses = local.coordinatorAddresses();
    if (addresses.isEmpty() || !local.isRunning()) {
      throw new IllegalStateException(
          "no coordinator given and no local cluster is running: start one with 'ftlab local up'"
              + " or pass --coordinators HOST:PORT");
    }
    return addresses;
  }
}
