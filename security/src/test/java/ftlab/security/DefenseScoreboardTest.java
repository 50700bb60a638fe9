package ftlab.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DefenseScoreboardTest {

  private final AtomicLong now = new AtomicLong(1_000);
  private final DefenseScoreboard board =
      new DefenseScoreboard(Optional.of(new Identity(Role.COORDINATOR, "c-1")), now::get);
  private final List<DefenseScoreboard.Recorded> told = new ArrayList<>();

  private static Refusal refusal(Refusal.Layer layer) {
    return new Refusal(layer, "127.0.0.1:5000", Optional.empty(), "", "because");
  }

  @Test
  void aFloodIsCountedInFullButLoggedOncePerLayerPerTenSeconds() {
    board.listen(told::add);
    for (int i = 0; i < 1000; i++) {
      board.record(refusal(Refusal.Layer.AUTHORIZATION));
      now.addAndGet(1_000_000); // 1 ms
    }
    board.record(refusal(Refusal.Layer.IDENTITY)); // another layer: logged at once
    assertThat(board.counts())
        .isEqualTo(Map.of(Refusal.Layer.AUTHORIZATION, 1000L, Refusal.Layer.IDENTITY, 1L));
    assertThat(told).hasSize(1001);
    assertThat(told.stream().filter(DefenseScoreboard.Recorded::log)).hasSize(2);

    now.addAndGet(DefenseScoreboard.LOG_EVERY_NANOS);
    board.record(refusal(Refusal.Layer.AUTHORIZATION));
    DefenseScoreboard.Recorded last = told.get(told.size() - 1);
    assertThat(last.log()).isTrue();
    assertThat(last.unloggedBefore()).isEqualTo(999);
    assertThat(board.latest()).contains(last);
    assertThat(board.ageNanos(last)).isZero();
  }

  @Test
  void theModeSaysWhoThisProcessIs() {
    assertThat(board.tls()).isTrue();
    assertThat(board.mode())
        .isEqualTo("mutual TLS as coordinator c-1 (spiffe://ftlab/coordinator/c-1)");
    assertThat(DefenseScoreboard.plaintext().mode()).isEqualTo("plaintext");
    assertThat(DefenseScoreboard.plaintext().tls()).isFalse();
  }
}
