package ftlab.client;

import ftlab.client.local.LocalCluster;
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

  /** The addresses to use, or a clear error saying how to get some. */
  public List<String> resolve() {
    if (coordinators != null && !coordinators.isEmpty()) {
      return coordinators;
    }
    String env = System.getenv("FTLAB_COORDINATORS");
    if (env != null && !env.isBlank()) {
      return List.of(env.split(","));
    }
    LocalCluster local = new LocalCluster(dir != null ? dir : LocalCluster.defaultStateDir(), null);
    List<String> addresses = local.coordinatorAddresses();
    if (addresses.isEmpty() || !local.isRunning()) {
      throw new IllegalStateException(
          "no coordinator given and no local cluster is running: start one with 'ftlab local up'"
              + " or pass --coordinators HOST:PORT");
    }
    return addresses;
  }
}
