package ftlab.coordinator.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.proto.RedundancyMode;
import org.junit.jupiter.api.Test;

/** The admission limit's rule and its sentences, with the numbers a reader checks by hand. */
class AdmissionLimitTest {
  private static final Redundancy FAILOVER = Redundancy.FAILOVER;
  private static final Redundancy VOTE_3 = new Redundancy(RedundancyMode.VOTE, 3);

  @Test
  void theLimitIsTheHeadroomTimesTheSlotsPerRequestNeverBelowTheFloor() {
    AdmissionLimit limit = AdmissionLimit.DEFAULT; // headroom 2, floor 4

    assertThat(limit.limit(20, 1)).as("5 nodes x 4, failover").isEqualTo(40);
    assertThat(limit.limit(20, 3)).as("the same in vote x3: 40 / 3").isEqualTo(13);
    assertThat(limit.limit(1, 1)).as("one slot: the floor").isEqualTo(4);
    assertThat(limit.limit(0, 1)).as("no node may get work: the floor").isEqualTo(4);
    assertThat(AdmissionLimit.OFF.limit(0, 1)).isEqualTo(Integer.MAX_VALUE);
  }

  @Test
  void belowTheLimitARequestIsTakenOnAtItARefusalSaysWhy() {
    AdmissionLimit limit = AdmissionLimit.DEFAULT;

    assertThat(limit.refusal("coordinator-1", 39, 5, 20, FAILOVER)).isEmpty();
    assertThat(limit.refusal("coordinator-1", 40, 5, 20, FAILOVER))
        .contains(
            "coordinator-1 is full: 40 requests in progress, the most it takes on (2 x the 20 task"
                + " slots of its 5 nodes that may get work); refused at once rather than queued:"
                + " try another coordinator or again in a moment");
    assertThat(limit.refusal("coordinator-1", 13, 5, 20, VOTE_3))
        .contains(
            "coordinator-1 is full: 13 requests in progress, the most it takes on (2 x the 20 task"
                + " slots of its 5 nodes that may get work, / 3 nodes per request in vote mode);"
                + " refused at once rather than queued: try another coordinator or again in a"
                + " moment");
    assertThat(limit.refusal("coordinator-1", 4, 1, 1, FAILOVER))
        .contains(
            "coordinator-1 is full: 4 requests in progress, the most it takes on (4, its floor: 2 x"
                + " the 1 task slot of its 1 node that may get work would be fewer); refused at"
                + " once rather than queued: try another coordinator or again in a moment");
    assertThat(limit.refusal("coordinator-1", 4, 0, 0, FAILOVER))
        .contains(
            "coordinator-1 is full: 4 requests in progress, the most it takes on (4: the few it"
                + " keeps waiting while no node may get work); refused at once rather than queued:"
                + " try another coordinator or again in a moment");
    assertThat(AdmissionLimit.OFF.refusal("coordinator-1", 1_000_000, 0, 0, FAILOVER)).isEmpty();
  }

  @Test
  void aHeadroomBelowOneOrAboveAHundredIsRefusedWithItsRange() {
    assertThatThrownBy(() -> new AdmissionLimit(0.5, 4))
        .hasMessage(
            "admission headroom must be 0 (no limit) or between 1 and 100 requests per node slot,"
                + " got 0.5");
    assertThatThrownBy(() -> new AdmissionLimit(Double.NaN, 4)).hasMessageContaining("got NaN");
    assertThatThrownBy(() -> new AdmissionLimit(2, -1))
        .hasMessage("admission floor must not be negative, got -1");
    assertThat(AdmissionLimit.DEFAULT.describe())
        .isEqualTo("at most 2 requests per node task slot (at least 4), more refused at once");
    assertThat(AdmissionLimit.OFF.describe()).isEqualTo("no limit");
  }
}
