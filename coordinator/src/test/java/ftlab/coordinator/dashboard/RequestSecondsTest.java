package ftlab.coordinator.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The dashboard's charts, second by second, with the time passed in. */
class RequestSecondsTest {
  private final RequestSeconds seconds = new RequestSeconds();
  private final List<RequestSeconds.Episode> episodes = new ArrayList<>();

  private static RequestSeconds.Ended answered(long ms) {
    return new RequestSeconds.Ended(true, ms * 1_000_000, 0, 0, false, List.of(), List.of());
  }

  private static RequestSeconds.Ended retried(long ms, String failedOn) {
    return new RequestSeconds.Ended(
        true, ms * 1_000_000, 1, 0, false, List.of(failedOn + " UNAVAILABLE"), List.of());
  }

  @Test
  void aSecondHoldsItsCountAndItsP50AndP99() {
    for (int i = 1; i <= 100; i++) {
      seconds.record(5_000 + i, answered(i), episodes); // 1..100 ms
    }
    RequestSeconds.Closed closed = seconds.closeBefore(6_000);

    assertThat(closed.seconds()).hasSize(1);
    RequestSeconds.Second s = closed.seconds().get(0);
    assertThat(s.startMillis()).isEqualTo(5_000);
    assertThat(s.answered()).isEqualTo(100);
    assertThat(s.failed()).isZero();
    assertThat(s.p50Ms()).isBetween(49.5, 50.5);
    assertThat(s.p99Ms()).isBetween(98.5, 99.5);
    assertThat(seconds.closeBefore(6_999).seconds()).as("6 is not over").isEmpty();
  }

  @Test
  void aSecondClosedByTheNextOnesFirstRequestIsStillHandedOut() {
    seconds.record(1_100, answered(2), episodes);
    seconds.record(2_010, answered(3), episodes); // steady traffic: this closes second 1
    seconds.record(3_020, answered(4), episodes); // and this second 2, between two batches

    assertThat(seconds.closeBefore(3_250).seconds())
        .extracting(RequestSeconds.Second::startMillis, RequestSeconds.Second::answered)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(1_000L, 1L),
            org.assertj.core.groups.Tuple.tuple(2_000L, 1L));
    assertThat(seconds.closeBefore(3_500).seconds()).as("each handed out once").isEmpty();
  }

  @Test
  void quietSecondsAreClosedTooAsManyAsTheChartsKeep() {
    seconds.record(1_000, answered(2), episodes);
    RequestSeconds.Closed closed = seconds.closeBefore(4_500);

    assertThat(closed.seconds())
        .extracting(RequestSeconds.Second::startMillis)
        .containsExactly(1_000L, 2_000L, 3_000L);
    assertThat(closed.seconds().get(1).answered()).isZero();
    assertThat(closed.seconds().get(1).p50Ms()).isNaN();

    // an hour without a batch (a stopped process): only the last five minutes are made up
    closed = seconds.closeBefore(3_604_000);
    assertThat(closed.seconds()).hasSize(RequestSeconds.KEPT);
    assertThat(seconds.kept()).hasSize(RequestSeconds.KEPT);
    assertThat(seconds.kept().get(RequestSeconds.KEPT - 1).startMillis()).isEqualTo(3_603_000);
  }

  @Test
  void aRunOfFailoversIsToldWhenItBeginsAndWhenItStops() {
    seconds.record(1_000, answered(1), episodes);
    seconds.record(2_100, retried(30, "node-2"), episodes);
    seconds.record(2_200, retried(31, "node-2"), episodes);
    seconds.record(3_100, retried(30, "node-2"), episodes);
    seconds.record(4_100, answered(1), episodes);
    List<RequestSeconds.Episode> told = new ArrayList<>(episodes);
    told.addAll(seconds.closeBefore(5_000).episodes());

    assertThat(told)
        .extracting(RequestSeconds.Episode::atMillis, RequestSeconds.Episode::text)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                2_000L,
                "failover began: attempts failing (node-2 UNAVAILABLE x2), requests retried on"
                    + " another node"),
            org.assertj.core.groups.Tuple.tuple(
                4_000L, "failover stopped: 3 failed attempts in 2 s"));
    assertThat(seconds.kept().get(1).retries()).isEqualTo(2);
  }
}
