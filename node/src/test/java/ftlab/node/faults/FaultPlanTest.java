package ftlab.node.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.proto.Faults;
import ftlab.proto.Lie;
import ftlab.proto.Slow;
import io.grpc.Status;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fault model on its own: what the wire may carry, the words for it, how SetFaults merges, and
 * the per-task draws. Contract: {@code faults.proto}.
 */
class FaultPlanTest {

  private static Faults.Builder faults() {
    return Faults.newBuilder();
  }

  static Stream<Arguments> outOfRange() {
    return Stream.of(
        Arguments.of(
            faults().setSlow(Slow.newBuilder().setDelayMs(60_001)),
            "slow.delay_ms must be between 0 and 60000 ms, got 60001"),
        Arguments.of(
            faults().setSlow(Slow.newBuilder().setDelayMs(-1)),
            "slow.delay_ms must be between 0 and 60000 ms, got -1"),
        Arguments.of(
            faults().setSlow(Slow.newBuilder().setDelayMs(10).setJitterMs(70_000)),
            "slow.jitter_ms must be between 0 and 60000 ms, got 70000"),
        Arguments.of(
            faults().setSlow(Slow.newBuilder().setDelayMs(10).setFraction(1.5)),
            "slow.fraction must be more than 0 and at most 1 (0 or unset means 1), got 1.5"),
        Arguments.of(
            faults().setLie(Lie.newBuilder().setFraction(-0.1)),
            "lie.fraction must be more than 0 and at most 1 (0 or unset means 1), got -0.1"),
        Arguments.of(
            faults().setLie(Lie.newBuilder().setFraction(Double.NaN)),
            "lie.fraction must be more than 0 and at most 1 (0 or unset means 1), got NaN"),
        Arguments.of(
            faults().setError(ftlab.proto.Error.newBuilder().setFraction(2)),
            "error.fraction must be more than 0 and at most 1 (0 or unset means 1), got 2.0"),
        Arguments.of(
            faults().setError(ftlab.proto.Error.newBuilder().setCode("OK")),
            "error.code must be a gRPC status code other than OK (CANCELLED, UNKNOWN,"),
        Arguments.of(
            faults().setError(ftlab.proto.Error.newBuilder().setCode("BROKEN")),
            "error.code must be a gRPC status code other than OK ("));
  }

  @ParameterizedTest
  @MethodSource("outOfRange")
  void refusesValuesOutOfRangeNamingTheFieldAndTheRange(Faults.Builder wire, String message) {
    assertThatThrownBy(() -> FaultPlan.fromProto(wire.build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message);
  }

  @Test
  void anUnknownCodeIsQuotedWithTheCodesThatExist() {
    assertThatThrownBy(
            () ->
                FaultPlan.fromProto(
                    faults().setError(ftlab.proto.Error.newBuilder().setCode("BROKEN")).build()))
        .hasMessageContaining("UNAVAILABLE")
        .hasMessageContaining("INTERNAL")
        .hasMessageEndingWith("got 'BROKEN'");
  }

  @Test
  void unsetFractionsMeanEveryTaskAndTheDefaultCodeIsUnavailable() {
    FaultPlan plan =
        FaultPlan.fromProto(
            faults()
                .setSlow(Slow.newBuilder().setDelayMs(200))
                .setError(ftlab.proto.Error.getDefaultInstance())
                .setLie(Lie.getDefaultInstance())
                .build());

    assertThat(plan.slow()).isEqualTo(new FaultPlan.Slow(200, 0, 1));
    assertThat(plan.errors()).isEqualTo(new FaultPlan.Errors(Status.Code.UNAVAILABLE, 1));
    assertThat(plan.lie()).isEqualTo(new FaultPlan.Lie(1));
    // written out in replies and heartbeats, so that a reader sees what is really in force
    assertThat(plan.toProto().getError().getCode()).isEqualTo("UNAVAILABLE");
    assertThat(plan.toProto().getLie().getFraction()).isEqualTo(1.0);
  }

  @Test
  void codesAreReadInAnyCase() {
    FaultPlan plan =
        FaultPlan.fromProto(
            faults().setError(ftlab.proto.Error.newBuilder().setCode(" internal ")).build());
    assertThat(plan.errors().code()).isEqualTo(Status.Code.INTERNAL);
  }

  @Test
  void theWireFormRoundTrips() {
    FaultPlan plan =
        new FaultPlan(
            new FaultPlan.Slow(200, 50, 0.1),
            new FaultPlan.Errors(Status.Code.INTERNAL, 0.2),
            new FaultPlan.Lie(0.3),
            true,
            true);
    assertThat(FaultPlan.fromProto(plan.toProto())).isEqualTo(plan);
    assertThat(FaultPlan.fromProto(Faults.getDefaultInstance())).isEqualTo(FaultPlan.NONE);
    assertThat(FaultPlan.NONE.toProto()).isEqualTo(Faults.getDefaultInstance());
  }

  static Stream<Arguments> descriptions() {
    return Stream.of(
        Arguments.of(FaultPlan.NONE, ""),
        Arguments.of(
            new FaultPlan(new FaultPlan.Slow(200, 50, 0.1), null, null, false, false),
            "slow 200-250 ms on 10% of tasks"),
        Arguments.of(
            new FaultPlan(new FaultPlan.Slow(200, 0, 1), null, null, false, false),
            "slow 200 ms on every task"),
        Arguments.of(
            new FaultPlan(
                null, new FaultPlan.Errors(Status.Code.INTERNAL, 0.2), null, false, false),
            "error INTERNAL on 20% of tasks"),
        Arguments.of(
            new FaultPlan(null, null, new FaultPlan.Lie(0.125), false, false),
            "lie on 12.5% of tasks"),
        Arguments.of(
            new FaultPlan(
                new FaultPlan.Slow(200, 50, 0.1),
                new FaultPlan.Errors(Status.Code.UNAVAILABLE, 1),
                new FaultPlan.Lie(0.3),
                true,
                true),
            "slow 200-250 ms on 10% of tasks; error UNAVAILABLE on every task;"
                + " lie on 30% of tasks; freeze; mute-heartbeats"));
  }

  @ParameterizedTest
  @MethodSource("descriptions")
  void describesTheFaultsInOneLine(FaultPlan plan, String words) {
    assertThat(plan.describe()).isEqualTo(words);
  }

  @Test
  void setFaultsReplacesTheKindsGivenAndKeepsTheOthers() {
    FaultPlan before =
        new FaultPlan(new FaultPlan.Slow(100, 0, 1), null, new FaultPlan.Lie(0.5), false, true);

    FaultPlan after = before.with(new FaultPlan(null, null, new FaultPlan.Lie(0.3), true, false));

    // lie replaced, slow kept, freeze added; mute-heartbeats kept: a false on the wire is "not
    // given" (proto3 booleans have no presence), so only Heal lifts it
    assertThat(after)
        .isEqualTo(
            new FaultPlan(new FaultPlan.Slow(100, 0, 1), null, new FaultPlan.Lie(0.3), true, true));
    assertThat(FaultPlan.NONE.with(FaultPlan.NONE)).isEqualTo(FaultPlan.NONE);
  }

  @Test
  void heartbeatsStopWhileFrozenOrMuted() {
    assertThat(FaultPlan.NONE.sendsHeartbeats()).isTrue();
    assertThat(new FaultPlan(null, null, new FaultPlan.Lie(1), false, false).sendsHeartbeats())
        .isTrue();
    assertThat(new FaultPlan(null, null, null, true, false).sendsHeartbeats()).isFalse();
    assertThat(new FaultPlan(null, null, null, false, true).sendsHeartbeats()).isFalse();
  }

  @Test
  void aHealthyNodeDrawsNothing() {
    ScriptedRandom random = new ScriptedRandom();
    assertThat(FaultPlan.NONE.decide(random)).isEqualTo(FaultPlan.TaskFaults.NONE);
    assertThat(random.draws()).isEmpty();
  }

  @Test
  void aFractionOfOneHitsEveryTaskWithoutDrawing() {
    FaultPlan plan =
        new FaultPlan(
            new FaultPlan.Slow(200, 0, 1),
            new FaultPlan.Errors(Status.Code.INTERNAL, 1),
            new FaultPlan.Lie(1),
            false,
            false);
    ScriptedRandom random = new ScriptedRandom();

    assertThat(plan.decide(random))
        .isEqualTo(new FaultPlan.TaskFaults(200, Status.Code.INTERNAL, true));
    assertThat(random.draws()).isEmpty();
  }

  @Test
  void aTaskIsHitWhenItsDrawIsBelowTheFraction() {
    FaultPlan plan =
        new FaultPlan(
            new FaultPlan.Slow(200, 50, 0.1),
            new FaultPlan.Errors(Status.Code.INTERNAL, 0.2),
            new FaultPlan.Lie(0.3),
            false,
            false);

    // slow: 0.05 < 0.1, hit, then jitter 17 of 0..50; error: 0.2 is not below 0.2; lie: 0.29 < 0.3
    ScriptedRandom first = new ScriptedRandom(0.05, 17, 0.2, 0.29);
    assertThat(plan.decide(first)).isEqualTo(new FaultPlan.TaskFaults(217, null, true));
    assertThat(first.draws())
        .containsExactly("nextDouble()", "nextInt(51)", "nextDouble()", "nextDouble()");

    // slow missed (no jitter drawn then), error hit, lie missed
    ScriptedRandom second = new ScriptedRandom(0.5, 0.0, 0.99);
    assertThat(plan.decide(second))
        .isEqualTo(new FaultPlan.TaskFaults(0, Status.Code.INTERNAL, false));
    assertThat(second.usedUp()).isTrue();
  }
}
