package ftlab.client.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.client.FtlabMain;
import ftlab.proto.Faults;
import ftlab.proto.Lie;
import ftlab.proto.Slow;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** How {@code ftlab chaos} reads its command line, and the faults it asks the node for. */
class ChaosOptionsTest {

  /** The chaos command and its subcommand as picocli filled them in from {@code args}. */
  private record Parsed(ChaosCommand chaos, Object sub) {}

  private static Parsed parse(String... args) {
    CommandLine.ParseResult result = new CommandLine(new FtlabMain()).parseArgs(args);
    CommandLine.ParseResult chaos = result.subcommand();
    CommandLine.ParseResult sub = chaos.subcommand();
    return new Parsed(
        (ChaosCommand) chaos.commandSpec().userObject(),
        sub == null ? null : sub.commandSpec().userObject());
  }

  private static Faults faultsOf(String... args) {
    Object sub = parse(args).sub();
    if (sub instanceof ChaosCommand.Slow s) {
      return s.faults();
    }
    if (sub instanceof ChaosCommand.ErrorCommand e) {
      return e.faults();
    }
    return ((ChaosCommand.LieCommand) sub).faults();
  }

  @Test
  void slowTakesADelayAJitterAndAFraction() {
    assertThat(faultsOf("chaos", "node-2", "slow", "--delay", "200ms"))
        .isEqualTo(Faults.newBuilder().setSlow(Slow.newBuilder().setDelayMs(200)).build());
    assertThat(
            faultsOf(
                "chaos",
                "node-2",
                "slow",
                "--delay",
                "200ms",
                "--jitter",
                "50ms",
                "--fraction",
                "10%"))
        .isEqualTo(
            Faults.newBuilder()
                .setSlow(Slow.newBuilder().setDelayMs(200).setJitterMs(50).setFraction(0.1))
                .build());
    assertThat(faultsOf("chaos", "node-2", "slow", "--delay", "1.5s").getSlow().getDelayMs())
        .isEqualTo(1500);
  }

  @Test
  void slowNeedsADelay() {
    assertThatThrownBy(() -> parse("chaos", "node-2", "slow"))
        .isInstanceOf(CommandLine.MissingParameterException.class)
        .hasMessageContaining("--delay");
  }

  @Test
  void errorDefaultsToUnavailableOnEveryTask() {
    // the node writes the defaults out in its reply; on the wire, unset means the default
    assertThat(faultsOf("chaos", "node-2", "error"))
        .isEqualTo(
            Faults.newBuilder()
                .setError(ftlab.proto.Error.newBuilder().setCode("UNAVAILABLE"))
                .build());
    assertThat(faultsOf("chaos", "node-2", "error", "--code", "internal", "--fraction", "0.2"))
        .isEqualTo(
            Faults.newBuilder()
                .setError(ftlab.proto.Error.newBuilder().setCode("INTERNAL").setFraction(0.2))
                .build());
  }

  @Test
  void lieTakesAFraction() {
    assertThat(faultsOf("chaos", "node-2", "lie"))
        .isEqualTo(Faults.newBuilder().setLie(Lie.getDefaultInstance()).build());
    assertThat(faultsOf("chaos", "node-2", "lie", "--fraction", "30%"))
        .isEqualTo(Faults.newBuilder().setLie(Lie.newBuilder().setFraction(0.3)).build());
  }

  @ParameterizedTest
  @CsvSource({"30%, 0.3", "0.3, 0.3", "100%, 1.0", "1, 1.0", "12.5%, 0.125", "' 5 % ', 0.05"})
  void aFractionIsAPercentageOrANumber(String text, double fraction) {
    assertThat(new FractionConverter().convert(text)).isEqualTo(fraction);
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "0%", "150%", "1.5", "-0.1", "NaN"})
  void aFractionIsMoreThanNothingAndAtMostEverything(String text) {
    assertThatThrownBy(() -> new FractionConverter().convert(text))
        .hasMessage("a fraction of tasks must be more than 0 and at most 100%, got " + text);
  }

  @Test
  void aFractionThatIsNotANumberIsExplained() {
    assertThatThrownBy(() -> new FractionConverter().convert("often"))
        .hasMessage("'often' is not a fraction of tasks; write e.g. 30% or 0.3");
  }

  @Test
  void everySubcommandIsThere() {
    for (String sub :
        List.of("slow", "error", "lie", "freeze", "mute-heartbeats", "crash", "heal", "show")) {
      CommandLine.ParseResult result =
          new CommandLine(new FtlabMain())
              .parseArgs(
                  sub.equals("slow")
                      ? new String[] {"chaos", "node-2", sub, "--delay", "1s"}
                      : new String[] {"chaos", "node-2", sub});
      assertThat(result.subcommand().subcommand().commandSpec().name()).isEqualTo(sub);
    }
  }

  @Test
  void withoutASubcommandItShowsTheNode() {
    Parsed parsed = parse("chaos", "node-2");
    assertThat(parsed.chaos().node).isEqualTo("node-2");
    assertThat(parsed.sub()).isNull();
  }

  @Test
  void theNodeMustBeNamed() {
    assertThatThrownBy(() -> parse("chaos", "lie"))
        .isInstanceOf(CommandLine.MissingParameterException.class)
        .hasMessageContaining("NODE");
  }

  @Test
  void whereAndHowLongMayComeBeforeOrAfterTheSubcommand() {
    Parsed before =
        parse("chaos", "node-2", "-c", "h:7001", "--node-address", "h:7102", "--wait", "1s", "lie");
    Parsed after =
        parse("chaos", "node-2", "lie", "-c", "h:7001", "--node-address", "h:7102", "--wait", "0");
    Parsed byDefault = parse("chaos", "node-2", "freeze");

    for (Parsed p : List.of(before, after)) {
      assertThat(p.chaos().nodeAddress).isEqualTo("h:7102");
      assertThat(p.chaos().coordinatorOption.resolve()).containsExactly("h:7001");
    }
    assertThat(before.chaos().wait).isEqualTo(Duration.ofSeconds(1));
    assertThat(after.chaos().wait).isZero();
    assertThat(byDefault.chaos().wait).isEqualTo(Duration.ofSeconds(3));
  }
}
