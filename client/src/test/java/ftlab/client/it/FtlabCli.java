package ftlab.client.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The {@code ftlab} CLI as a user runs it: the client fat jar, started as a process. */
final class FtlabCli {
  private FtlabCli() {}

  /** What a CLI run printed and returned. */
  record Run(int exit, String out, String err) {}

  /**
   * Runs {@code ftlab args...} and waits for it (at most 120 s; then it is killed).
   *
   * @param localDir the local cluster's folder (FTLAB_LOCAL_DIR), so that commands given no
   *     --coordinators find that cluster
   */
  static Run run(Path localDir, String... args) throws IOException, InterruptedException {
    return runIn(null, localDir, args);
  }

  /**
   * As {@link #run}, in the folder {@code workDir} (the checkout's root, where a user types {@code
   * ./ftlab scenario run docs/labs/...}); null: this JVM's.
   */
  static Run runIn(Path workDir, Path localDir, String... args)
      throws IOException, InterruptedException {
    return runIn(java.time.Duration.ofSeconds(120), workDir, localDir, args);
  }

  /** As {@link #runIn}, killed after {@code atMost} rather than 120 s (a soak runs longer). */
  static Run runIn(java.time.Duration atMost, Path workDir, Path localDir, String... args)
      throws IOException, InterruptedException {
    Path home = Path.of(System.getProperty("ftlab.home", "..")).toAbsolutePath().normalize();
    Path jar = home.resolve("client/target/ftlab-client.jar");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Dftlab.home=" + home);
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile("ftlab-out", ".txt");
    Path err = Files.createTempFile("ftlab-err", ".txt");
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
    if (workDir != null) {
      pb.directory(workDir.toFile());
    }
    pb.environment().put("FTLAB_LOCAL_DIR", localDir.toString());
    Process p = pb.start();
    if (!p.waitFor(atMost.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(
          "ftlab " + String.join(" ", args) + " did not finish in " + atMost.toSeconds() + " s");
    }
    Run run =
        new Run(
            p.exitValue(),
            Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
    Files.delete(out);
    Files.delete(err);
    System.out.println("$ ftlab " + String.join(" ", args) + "  -> exit " + run.exit());
    System.out.println(run.out() + run.err());
    return run;
  }
}
