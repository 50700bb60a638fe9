package ftlab.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The coordinator's command line. */
class CoordinatorMainTest {

  @Test
  void helpRendersWithoutPicocliWarningsAndListsTheTableLimits() {
    PrintStream err = System.err;
    ByteArrayOutputStream warnings = new ByteArrayOutputStream();
    String usage;
    try {
      // picocli reports a description it cannot format (a bare % is a format specifier) on stderr
      System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
      usage = new CommandLine(new CoordinatorMain()).getUsageMessage();
    } finally {
      System.setErr(err);
    }
    assertThat(warnings.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(usage).contains("--max-nodes", "--forget-after-s").doesNotContain("%n");
  }

  @Test
  void aTableLimitOutOfRangeIsRefusedWithOneSentence() {
    PrintStream err = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int exit;
    try {
      // the settings' exception names its own CommandLine, which writes to System.err
      System.setErr(new PrintStream(out, true, StandardCharsets.UTF_8));
      exit =
          new CommandLine(new CoordinatorMain()).execute("--max-nodes", "0", "--http-port", "-1");
    } finally {
      System.setErr(err);
    }
    assertThat(exit).isEqualTo(2);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .startsWith("max nodes must be 1..100000, got 0");
  }
}
