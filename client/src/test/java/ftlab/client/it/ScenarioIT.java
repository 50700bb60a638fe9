package ftlab.client.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ftlab scenario run} as a user runs it: a missed expectation is exit code 1, and a run cut
 * short (SIGTERM, as Ctrl-C) leaves nothing paused or running. The passing runs, with their reports
 * and their histories checked again, are the labs' ({@link LabsIT}).
 */
class ScenarioIT {
  @TempDir Path dir;

  @Test
  void aMissedExpectationMakesTheExitCode1() throws Exception {
    Path file = dir.resolve("impossible.yaml");
    Files.writeString(
        file,
        """
        name: impossible
        cluster: {nodes: 2, coordinators: 1}
        load: {rate: 20}
        duration: 4s
        expect:
          - failed: 0
          - max: {below: 1ms}
        """);
    FtlabCli.Run run =
        FtlabCli.run(dir, "scenario", "run", file.toString(), "--dir", dir.toString());
    assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(1);
    assertThat(run.out())
        .contains("  met     no failed request ")
        .containsPattern(
            "  MISSED  max latency below 1 ms for requests over the whole run +max latency [0-9]+ ms over [0-9]+ requests")
        .contains("verdict: FAIL (1 of 2 expectations missed)");
    assertNothingRunning(run.out());
  }

  @Test
  void aRunCutShortContinuesWhatItPausedAndStopsItsCluster() throws Exception {
    Path file = dir.resolve("long.yaml");
    Files.writeString(
        file,
        """
        name: cut short
        cluster: {nodes: 2, coordinators: 1}
        duration: 60s
        timeline:
          - {at: 2s, do: pause, target: node-2}
        """);
    Path home = Path.of(System.getProperty("ftlab.home", "..")).toAbsolutePath().normalize();
    Path out = dir.resolve("out.txt");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dftlab.home=" + home,
                "-jar",
                home.resolve("client/target/ftlab-client.jar").toString(),
                "scenario",
                "run",
                file.toString(),
                "--dir",
                dir.toString())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    try {
      org.awaitility.Awaitility.await("node-2 paused by the scenario")
          .atMost(Duration.ofSeconds(90))
          .until(() -> Files.readString(out).contains("pause node-2: took effect"));
      p.destroy(); // SIGTERM: what Ctrl-C does to the JVM's shutdown hooks
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      p.destroyForcibly();
    }
    String printed = Files.readString(out, StandardCharsets.UTF_8);
    System.out.println(printed);
    assertThat(printed)
        .contains("[scenario] undone: continued node-2")
        .contains("[scenario] cluster stopped");
    assertNothingRunning(printed);
  }

  /** Every process the run said it started has exited (none paused, none left running). */
  static void assertNothingRunning(String printed) {
    Matcher ready = Pattern.compile("\\[scenario\\] cluster ready:(.*)").matcher(printed);
    assertThat(ready.find()).as("the run's 'cluster ready' line").isTrue();
    Matcher pid = Pattern.compile("(\\S+) \\(PID ([0-9]+), port").matcher(ready.group(1));
    int count = 0;
    while (pid.find()) {
      count++;
      assertThat(ProcessHandle.of(Long.parseLong(pid.group(2))).map(ProcessHandle::isAlive))
          .as(pid.group(1) + " (PID " + pid.group(2) + ") after the run")
          .isNotEqualTo(java.util.Optional.of(true));
    }
    assertThat(count).isPositive();
  }
}
