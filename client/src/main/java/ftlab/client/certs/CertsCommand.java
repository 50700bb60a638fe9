package ftlab.client.certs;

import ftlab.security.Identity;
import ftlab.security.LabCertificates;
import ftlab.security.Role;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ftlab certs}: the lab's certificate authority and one certificate per component, for
 * {@code --tls-dir}. Bouncy Castle makes them; no openssl needed.
 */
@Command(
    name = "certs",
    mixinStandardHelpOptions = true,
    description = {
      "Make the lab's certificate authority and a certificate for each coordinator, node, client"
          + " and admin, for mutual TLS (--tls-dir on every process).",
      "A certificate names its holder as spiffe://ftlab/ROLE/NAME: a process must hold the"
          + " certificate of its own id, and its role says what it may call (docs/security.md).",
      "Run it again to add names: the authority in DIR is kept, and the certificates named are"
          + " made anew (new keys)."
    })
public final class CertsCommand implements Callable<Integer> {

  @Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--dir",
      paramLabel = "DIR",
      description = "Where to write them (env FTLAB_TLS_DIR). Default: ~/.ftlab/certs.")
  Path dir;

  @Option(
      names = "--nodes",
      defaultValue = "5",
      description = "Certificates for node-1..node-N. Default: ${DEFAULT-VALUE}.")
  int nodes;

  @Option(
      names = "--coordinators",
      defaultValue = "2",
      description = "Certificates for coordinator-1..coordinator-N. Default: ${DEFAULT-VALUE}.")
  int coordinators;

  @Option(
      names = "--node",
      paramLabel = "NAME",
      description = "A node certificate with this name as well (repeat for more), e.g. pool-1.")
  List<String> extraNodes = new ArrayList<>();

  @Option(
      names = "--coordinator",
      paramLabel = "NAME",
      description = "A coordinator certificate with this name as well (repeat for more).")
  List<String> extraCoordinators = new ArrayList<>();

  @Option(
      names = "--client",
      paramLabel = "NAME",
      defaultValue = "client",
      split = ",",
      description = "Client certificates (may submit and read the cluster). Default: client.")
  List<String> clients;

  @Option(
      names = "--admin",
      paramLabel = "NAME",
      defaultValue = "admin",
      split = ",",
      description =
          "Admin certificates (may also switch modes, readmit and inject faults). Default: admin.")
  List<String> admins;

  @Option(
      names = "--days",
      defaultValue = "30",
      description = "How long the certificates are valid, in days. Default: ${DEFAULT-VALUE}.")
  int days;

  @Option(
      names = "--only",
      description =
          "Make only the certificates named by --node, --coordinator, --client and --admin"
              + " (not node-1..N, coordinator-1..N), e.g. to add one node to a lab.")
  boolean only;

  @Option(
      names = "--split",
      description =
          "Also give each coordinator and node a folder of its own, DIR/NAME, holding only ca.pem"
              + " and its own certificate and key (never the authority's key), and the CLI one,"
              + " DIR/"
              + CLI_FOLDER
              + ", with every client and admin certificate: start each process with --tls-dir"
              + " DIR/NAME, so that one broken process gives away only its own key.")
  boolean split;

  /** With {@code --split}: the folder of every client and admin certificate (the CLI's). */
  public static final String CLI_FOLDER = "cli";

  /** The default folder: ~/.ftlab/certs, or FTLAB_TLS_DIR. */
  public static Path defaultDir() {
    String env = System.getenv("FTLAB_TLS_DIR");
    return env != null && !env.isBlank()
        ? Path.of(env)
        : Path.of(System.getProperty("user.home"), ".ftlab", "certs");
  }

  @Override
  public Integer call() throws IOException {
    if (days < 1 || days > 3650) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--days must be between 1 and 3650, got " + days);
    }
    if (nodes < 0 || nodes > 1000 || coordinators < 0 || coordinators > 100) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--nodes must be 0-1000 and --coordinators 0-100, got " + nodes + " and " + coordinators);
    }
    Set<Identity> wanted = new LinkedHashSet<>();
    try {
      if (!only) {
        for (int i = 1; i <= coordinators; i++) {
          wanted.add(new Identity(Role.COORDINATOR, "coordinator-" + i));
        }
        for (int i = 1; i <= nodes; i++) {
          wanted.add(new Identity(Role.NODE, "node-" + i));
        }
      }
      extraCoordinators.forEach(n -> wanted.add(new Identity(Role.COORDINATOR, n)));
      extraNodes.forEach(n -> wanted.add(new Identity(Role.NODE, n)));
      if (!only || spec.commandLine().getParseResult().hasMatchedOption("--client")) {
        clients.forEach(n -> wanted.add(new Identity(Role.CLIENT, n)));
      }
      if (!only || spec.commandLine().getParseResult().hasMatchedOption("--admin")) {
        admins.forEach(n -> wanted.add(new Identity(Role.ADMIN, n)));
      }
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    Set<String> names = new LinkedHashSet<>();
    for (Identity identity : wanted) {
      if (!names.add(identity.name())) {
        throw new CommandLine.ParameterException(
            spec.commandLine(),
            "'" + identity.name() + "' is asked for in two roles: names must be unique");
      }
    }
    if (split && names.contains(CLI_FOLDER)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "'"
              + CLI_FOLDER
              + "' is the folder of the client and admin certificates with --split: choose"
              + " another name");
    }
    if (wanted.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "no certificate asked for");
    }
    Path folder = dir != null ? dir : defaultDir();
    boolean existed = Files.exists(folder.resolve("ca.pem"));
    LabCertificates authority = LabCertificates.openOrCreate(folder, Duration.ofDays(3650));
    System.out.printf(
        "%s the lab's authority in %s (valid until %s)%n",
        existed ? "using" : "made", folder, day(authority.authority().getNotAfter()));
    Set<Path> folders = new LinkedHashSet<>();
    for (Identity identity : wanted) {
      var certificate = authority.issue(identity, Duration.ofDays(days));
      System.out.printf(
          "  %-18s %-12s %s until %s%n",
          identity.name() + ".pem",
          identity.role().word(),
          identity.uri(),
          day(certificate.getNotAfter()));
      if (split) {
        folders.add(authority.copyInto(identity, folder.resolve(holderFolder(identity))));
      }
    }
    if (split) {
      System.out.printf(
          "--split: %d folders with ca.pem and their own certificates and keys, no authority"
              + " key: %s%n",
          folders.size(),
          String.join(
              ", ", folders.stream().map(f -> folder.relativize(f).toString() + "/").toList()));
    }
    if (split) {
      System.out.printf(
          "%d certificate%s; keys (*.key, ca.key) are readable by you only. Start each process with"
              + " --tls-dir %s, its own folder (env FTLAB_TLS_DIR), and the CLI with --tls-dir %s;"
              + " clients pick theirs with --as NAME.%n",
          wanted.size(),
          wanted.size() == 1 ? "" : "s",
          folder.resolve("NAME"),
          folder.resolve(CLI_FOLDER));
    } else {
      System.out.printf(
          "%d certificate%s; keys (*.key, ca.key) are readable by you only. Start every process"
              + " with --tls-dir %s (env FTLAB_TLS_DIR); clients pick theirs with --as NAME.%n",
          wanted.size(), wanted.size() == 1 ? "" : "s", folder);
    }
    return 0;
  }

  /** The folder of an identity's own with {@code --split}, under the authority's. */
  static String holderFolder(Identity identity) {
    return identity.role() == Role.CLIENT || identity.role() == Role.ADMIN
        ? CLI_FOLDER
        : identity.name();
  }

  private static String day(java.util.Date date) {
    return DateTimeFormatter.ISO_LOCAL_DATE.format(date.toInstant().atOffset(ZoneOffset.UTC));
  }
}
