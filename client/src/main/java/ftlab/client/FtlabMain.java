package ftlab.client;

import ftlab.client.chaos.ChaosCommand;
import ftlab.client.local.LocalCommand;
import ftlab.client.status.StatusCommand;
import ftlab.client.watch.WatchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code ftlab} command line. */
@Command(
    name = "ftlab",
    mixinStandardHelpOptions = true,
    version = "ftlab 0.1.0",
    description = "Drive an ftlab fault-tolerance lab cluster.",
    footer = {
      "",
      "From a checkout, ./ftlab bench runs the benchmarks (bench/, results in"
          + " docs/benchmarks.md)."
    },
    subcommands = {
      WatchCommand.class,
      StatusCommand.class,
      ChaosCommand.class,
      LocalCommand.class,
      ftlab.client.admin.ModeCommand.class,
      ftlab.client.admin.ReadmitCommand.class,
      ftlab.client.admin.RevokeCommand.class,
      ftlab.client.certs.CertsCommand.class,
      ftlab.client.scenario.ScenarioCommand.class,
      ftlab.client.scenario.SoakCommand.class
    })
public final class FtlabMain implements Runnable {

  @Option(
      names = "--verbose",
      scope = CommandLine.ScopeType.INHERIT,
      description = "On errors, print the stack trace too.")
  boolean verbose;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Runs the CLI and returns its exit code: 0 ok, 1 the check failed, 2 usage or setup error. */
  public static int run(String... args) {
    return withErrorsForPeople(new CommandLine(new FtlabMain())).execute(args);
  }

  /**
   * Errors are for people: an exception in a command prints one sentence and exits with 2; the
   * stack trace only with {@code --verbose} (an option of the command or of one of its parents).
   * Also used by the benchmarks' command line ({@code bench/}).
   */
  public static CommandLine withErrorsForPeople(CommandLine cli) {
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          // Errors are for people: one sentence. The stack trace only with --verbose.
          boolean verbose = false;
          for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            verbose |= p.hasMatchedOption("--verbose");
          }
          cmd.getErr().println("ftlab: " + message(e));
          if (verbose) {
            e.printStackTrace(cmd.getErr());
          } else {
            cmd.getErr().println("(run with --verbose for details)");
          }
          return 2;
        });
    return cli;
  }

  private static String message(Throwable e) {
    if (e instanceof io.grpc.StatusRuntimeException s) {
      return Coordinators.explain(s);
    }
    return e.getMessage() != null ? e.getMessage() : e.toString();
  }

  /**
   * gRPC's own warnings (a name that does not resolve while its container is stopped, with a stack
   * trace) would interleave with the CLI's output, which says the same in one line of its own. Held
   * here: java.util.logging keeps loggers only weakly.
   */
  private static final java.util.logging.Logger GRPC_LOG =
      java.util.logging.Logger.getLogger("io.grpc");

  /** Keeps gRPC's own warnings out of the output (see {@link #GRPC_LOG}). */
  public static void quietGrpcLogging() {
    GRPC_LOG.setLevel(java.util.logging.Level.SEVERE);
  }

  public static void main(String[] args) {
    // Names are looked up afresh, as the node and the coordinator do: in the compose lab a
    // coordinator started again may have another address, and the client inside the lab must not
    // keep calling the old one for the JVM's 30 s (or remember a failed lookup for 10 s).
    java.security.Security.setProperty("networkaddress.cache.ttl", "1");
    java.security.Security.setProperty("networkaddress.cache.negative.ttl", "0");
    System.setProperty("networkaddress.cache.ttl", "1");
    quietGrpcLogging();
    System.exit(run(args));
  }
}
