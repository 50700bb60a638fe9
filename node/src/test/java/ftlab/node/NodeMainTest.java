package ftlab.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The node's command line: settings are checked before anything starts. */
class NodeMainTest {

  @Test
  void badFaultsStopTheNodeBeforeItStartsWithOneSentence() {
    StringWriter err = new StringWriter();
    var cli = NodeMain.commandLine();
    cli.setErr(new PrintWriter(err, true));

    int exit = cli.execute("--faults", "slow:200ms,lie@150%", "--port", "0");

    // --port 0 would be refused too, later: the faults are checked first, before anything starts
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString())
        .isEqualTo(
            "ftlab-node: bad --faults (env FTLAB_FAULTS): the fraction in 'lie@150%' must be more"
                + " than 0 and at most 100%, got 150%"
                + System.lineSeparator());
  }

  @Test
  void idInTheTlsFolderStandsForTheNodesId() {
    StringWriter err = new StringWriter();
    var cli = NodeMain.commandLine();
    cli.setErr(new PrintWriter(err, true));

    int exit =
        cli.execute(
            "--id",
            "pool-7",
            "--tls-dir",
            "/nonexistent-ftlab/{id}",
            "--port",
            "7999",
            "--http-port",
            "-1");

    // the folder read is pool-7's own (there is none here: the sentence names it), before the
    // node binds its port
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("/nonexistent-ftlab/pool-7").doesNotContain("{id}");
  }

  @Test
  void advertisedIpIsTheAddressOfThisMachinesHostName() throws Exception {
    String ip = NodeMain.advertised("{ip}");

    assertThat(ip).isEqualTo(InetAddress.getLocalHost().getHostAddress());
    assertThat(InetAddress.getByName(ip).getHostAddress()).isEqualTo(ip); // a literal
    assertThat(NodeMain.advertised("node-9.example")).isEqualTo("node-9.example");
    assertThat(NodeMain.advertised("")).isEqualTo(InetAddress.getLocalHost().getHostName());
  }

  @Test
  void helpRendersWithoutPicocliWarnings() {
    PrintStream err = System.err;
    ByteArrayOutputStream warnings = new ByteArrayOutputStream();
    String usage;
    try {
      // picocli reports a description it cannot format (a bare % is a format specifier) on stderr
      System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
      usage = NodeMain.commandLine().getUsageMessage();
    } finally {
      System.setErr(err);
    }
    assertThat(warnings.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(usage).contains("lie@30%").doesNotContain("%n");
  }
}
