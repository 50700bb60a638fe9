package ftlab.bench;

import ftlab.client.FtlabMain;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ftlab bench}: the benchmarks whose results are in docs/benchmarks.md. A module of its own
 * ({@code bench/}), run from a checkout by {@code ./ftlab bench ...}: it is not in the CLI's jar
 * nor in the Docker image, where it could not run (it starts local clusters from the checkout's
 * jars, and the Docker lab from its compose file).
 */
@Command(
    name = "ftlab bench",
    version = "ftlab 0.1.0",
    mixinStandardHelpOptions = true,
    description = {
      "Benchmarks on a cluster of real local processes (failover, overhead) or of the Docker lab"
          + " (docker), started and stopped by the benchmark.",
      "Each prints a Markdown table on stdout (progress goes to stderr)."
    },
    subcommands = {
      FailoverBench.class,
      OverheadBench.class,
      DockerBench.class,
      RedundancyBench.class,
      DashboardBench.class,
      RevokeBench.class,
      ScaleBench.class
    })
public final class BenchCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--verbose",
      scope = CommandLine.ScopeType.INHERIT,
      description = "On errors, print the stack trace too.")
  boolean verbose;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    FtlabMain.quietGrpcLogging();
    System.exit(FtlabMain.withErrorsForPeople(new CommandLine(new BenchCommand())).execute(args));
  }
}
