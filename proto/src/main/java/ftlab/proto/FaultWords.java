package ftlab.proto;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * The faults injected into a node ({@code faults.proto}) in words, the same in every process: the
 * node's log and FaultsReply, {@code ftlab status} and {@code ftlab chaos} all say "slow 200-250 ms
 * on 10% of tasks; lie on 30% of tasks; freeze; mute-heartbeats".
 */
public final class FaultWords {
  private FaultWords() {}

  /** The faults in words; empty when none is in force. */
  public static String describe(Faults f) {
    List<String> parts = new ArrayList<>();
    if (f.hasSlow()) {
      int delay = f.getSlow().getDelayMs();
      int jitter = f.getSlow().getJitterMs();
      // the added delay is delay_ms plus a random 0..jitter_ms: say the range it falls in
      parts.add(
          "slow "
              + (jitter == 0 ? delay + " ms" : delay + "-" + (delay + jitter) + " ms")
              + on(f.getSlow().getFraction()));
    }
    if (f.hasError()) {
      String code = f.getError().getCode().isEmpty() ? "UNAVAILABLE" : f.getError().getCode();
      parts.add("error " + code + on(f.getError().getFraction()));
    }
    if (f.hasLie()) {
      parts.add("lie" + on(f.getLie().getFraction()));
    }
    if (f.getFreeze()) {
      parts.add("freeze");
    }
    if (f.getMuteHeartbeats()) {
      parts.add("mute-heartbeats");
    }
    return String.join("; ", parts);
  }

  /** The faults in words, or {@code none} when there are none. */
  public static String describeOr(Faults f, String none) {
    String words = describe(f);
    return words.isEmpty() ? none : words;
  }

  /** " on every task" (a fraction of 0 on the wire means every task too), " on 30% of tasks" */
  public static String on(double fraction) {
    return fraction == 0 || fraction >= 1
        ? " on every task"
        : " on " + percent(fraction) + " of tasks";
  }

  /** 0.3 is "30%", 0.125 is "12.5%". */
  static String percent(double fraction) {
    return BigDecimal.valueOf(fraction * 100)
            .setScale(2, RoundingMode.HALF_UP)
            .stripTrailingZeros()
            .toPlainString()
        + "%";
  }
}
