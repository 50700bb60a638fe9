package ftlab.node.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The short text form of {@code --faults} and {@code FTLAB_FAULTS}. */
class FaultTextTest {

  private static FaultPlan only(FaultPlan.Slow slow) {
    return new FaultPlan(slow, null, null, false, false);
  }

  private static FaultPlan only(FaultPlan.Errors errors) {
    return new FaultPlan(null, errors, null, false, false);
  }

  private static FaultPlan only(FaultPlan.Lie lie) {
    return new FaultPlan(null, null, lie, false, false);
  }

  static Stream<Arguments> valid() {
    return Stream.of(
        Arguments.of("slow:200ms", only(new FaultPlan.Slow(200, 0, 1))),
        Arguments.of("slow:1.5s", only(new FaultPlan.Slow(1500, 0, 1))),
        Arguments.of("slow:200ms+50ms@10%", only(new FaultPlan.Slow(200, 50, 0.1))),
        Arguments.of("slow:0ms+1s@0.5", only(new FaultPlan.Slow(0, 1000, 0.5))),
        Arguments.of("error", only(new FaultPlan.Errors(Status.Code.UNAVAILABLE, 1))),
        Arguments.of("error@20%", only(new FaultPlan.Errors(Status.Code.UNAVAILABLE, 0.2))),
        Arguments.of("error:INTERNAL@20%", only(new FaultPlan.Errors(Status.Code.INTERNAL, 0.2))),
        Arguments.of("error:internal", only(new FaultPlan.Errors(Status.Code.INTERNAL, 1))),
        Arguments.of("lie", only(new FaultPlan.Lie(1))),
        Arguments.of("lie@30%", only(new FaultPlan.Lie(0.3))),
        Arguments.of("lie@0.3", only(new FaultPlan.Lie(0.3))),
        Arguments.of("lie@100%", only(new FaultPlan.Lie(1))),
        Arguments.of("freeze", new FaultPlan(null, null, null, true, false)),
        Arguments.of("mute-heartbeats", new FaultPlan(null, null, null, false, true)),
        Arguments.of(
            " slow:200ms@10% , lie@30%,mute-heartbeats ",
            new FaultPlan(
                new FaultPlan.Slow(200, 0, 0.1), null, new FaultPlan.Lie(0.3), false, true)),
        Arguments.of("", FaultPlan.NONE),
        Arguments.of("   ", FaultPlan.NONE));
  }

  @ParameterizedTest
  @MethodSource("valid")
  void reads(String text, FaultPlan expected) {
    assertThat(FaultText.parse(text)).isEqualTo(expected);
  }

  @Test
  void unsetMeansNoFaults() {
    // docker-compose passes FTLAB_FAULTS: ${FTLAB_FAULTS:-}, an empty string, when it is not set
    assertThat(FaultText.parse(null)).isEqualTo(FaultPlan.NONE);
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of(
            "slo:200ms",
            "unknown fault 'slo:200ms': expected slow:DELAY, error[:CODE], lie, freeze or"
                + " mute-heartbeats, each with an optional @FRACTION (e.g. lie@30%)"),
        Arguments.of("slow", "'slow' needs a delay: write e.g. slow:200ms or slow:200ms+50ms"),
        Arguments.of("slow:200", "'200' in 'slow:200' is not a duration: write e.g. 200ms or 1.5s"),
        Arguments.of(
            "slow:200ms+fast",
            "'fast' in 'slow:200ms+fast' is not a duration: write e.g. 200ms or 1.5s"),
        Arguments.of(
            "slow:70s", "in 'slow:70s': slow.delay_ms must be between 0 and 60000 ms, got 70000"),
        Arguments.of(
            "lie@30", "the fraction in 'lie@30' must be more than 0 and at most 100%, got 30"),
        Arguments.of(
            "lie@0%", "the fraction in 'lie@0%' must be more than 0 and at most 100%, got 0%"),
        Arguments.of(
            "lie@often", "'often' in 'lie@often' is not a fraction: write e.g. @30% or @0.3"),
        Arguments.of("lie:yes", "'lie:yes' takes no ':' argument"),
        Arguments.of(
            "freeze@50%", "'freeze@50%' takes no fraction: freeze holds every task or none"),
        Arguments.of("lie,,freeze", "empty fault in 'lie,,freeze': write faults separated by"),
        Arguments.of("lie,", "empty fault in 'lie,'"),
        Arguments.of("lie,lie@30%", "'lie' is given twice in 'lie,lie@30%'"),
        Arguments.of(
            "error:TEAPOT@20%",
            "in 'error:TEAPOT@20%': error.code must be a gRPC status code other than OK ("),
        Arguments.of("error:OK", "in 'error:OK': error.code must be a gRPC status code"));
  }

  @ParameterizedTest
  @MethodSource("invalid")
  void refusesWithOneSentenceNamingTheBadPart(String text, String message) {
    assertThatThrownBy(() -> FaultText.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"slow:200ms+50ms@10%", "error:INTERNAL@20%", "lie@30%", "freeze,mute-heartbeats"})
  void whatItReadsIsWhatTheWireCarries(String text) {
    FaultPlan plan = FaultText.parse(text);
    assertThat(FaultPlan.fromProto(plan.toProto())).isEqualTo(plan);
  }
}
