package ftlab.client.bench;

import picocli.CommandLine.Command;

/** {@code ftlab bench}: the benchmarks whose results are in docs/benchmarks.md. */
@Command(
    name = "bench",
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
      RedundancyBench.class
    })
public final class BenchCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
