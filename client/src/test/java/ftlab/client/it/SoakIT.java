package ftlab.client.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short soak CI runs: {@code ftlab soak --duration 2m --seed 44} on real local processes (seed
 * 44 draws every kind of fault in two minutes: kill, stop, crash, pause, freeze, slow, lie, a
 * coordinator killed and one paused), with the soak's own verdict; the history, checked again,
 * gives the same one, and nothing is left running. The long soak is a documented command
 * (docs/benchmarks.md).
 */
class SoakIT {
  @TempDir Path dir;

  @Test
  void twoMinutesOfRandomFaultsLoseNothingAndLeaveNothingBroken() throws Exception {
    FtlabCli.Run run =
        FtlabCli.runIn(
            Duration.ofMinutes(5),
            null,
            dir,
            "soak",
            "--duration",
            "2m",
            "--seed",
            "44",
            "--dir",
            dir.toString());
    System.out.println(run.out());
    System.out.println(run.err());
    assertThat(run.out())
        .contains(
            "soak: seed 44 (--seed 44 runs the same faults again), 2 min, 13 faults: 1"
                + " coordinator kill, 1 coordinator pause, 1 crash, 2 freeze, 1 kill, 2 lie, 1"
                + " pause, 2 slow, 2 stop");
    // every action took effect (one that did not would be a verdict line of its own)
    assertThat(run.out()).doesNotContain("DID NOT TAKE EFFECT");
    for (String expectation :
        List.of(
            "no request lost",
            "no failed request",
            "no wrong request",
            "no healthy node declared DEAD",
            "memory within +25% and threads within +5",
            "every node ALIVE at every coordinator at the end")) {
      assertThat(run.out())
          .as(expectation)
          .containsPattern("(?m)^  met     " + Pattern.quote(expectation));
    }
    assertThat(run.out()).contains("verdict: PASS (6 expectations met)");
    assertThat(run.exit()).as(run.err()).isZero();
    // the liars were outvoted and taken back: each readmit took effect
    assertThat(run.out()).containsPattern("readmit node-[0-9]: took effect");
    Matcher figures =
        Pattern.compile("([0-9]+) requests, ([0-9]+) ok, 0 failed, 0 wrong").matcher(run.out());
    assertThat(figures.find()).isTrue();
    assertThat(Long.parseLong(figures.group(1))).isGreaterThan(2_000); // 20 a second for 2 min

    Path history;
    try (Stream<Path> files = Files.list(dir)) {
      history = files.filter(f -> f.toString().endsWith(".jsonl")).findFirst().orElseThrow();
    }
    FtlabCli.Run check = FtlabCli.run(dir, "scenario", "check", history.toString());
    assertThat(check.exit()).as(check.out() + check.err()).isZero();
    assertThat(check.out()).contains("verdict: PASS (6 expectations met)");
    ScenarioIT.assertNothingRunning(run.out());
  }
}
