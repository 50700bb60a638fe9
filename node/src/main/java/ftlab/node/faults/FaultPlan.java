package ftlab.node.faults;

import ftlab.proto.BadRequests;
import ftlab.proto.FaultWords;
import ftlab.proto.Faults;
import io.grpc.Status;
import java.util.Arrays;
import java.util.Locale;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;

/**
 * The faults in force on a node (contract: {@code faults.proto}): a value, checked when it is made,
 * with no threads and no clock. {@link NodeFaults} holds the current one; the Worker service asks
 * it, task by task, what to do ({@link #decide}).
 *
 * <p>Each kind is either in force or not:
 *
 * @param slow extra latency on some tasks; null when not in force
 * @param errors some tasks answer with an error instead of a result; null when not in force
 * @param lie some tasks get a wrong result; null when not in force
 * @param freeze no task is answered and no heartbeat is sent, while the process stays up
 * @param muteHeartbeats tasks are served, but no heartbeat is sent (a one-way partition)
 */
public record FaultPlan(Slow slow, Errors errors, Lie lie, boolean freeze, boolean muteHeartbeats) {

  /** A healthy node: nothing injected. */
  public static final FaultPlan NONE = new FaultPlan(null, null, null, false, false);

  /**
   * The bound on every added delay. A minute is far beyond any deadline in the lab (an attempt gets
   * 300 ms plus the task's expected time), so it is enough to show any timeout, and a typo such as
   * 200s for 200ms cannot hold a slot for hours.
   */
  public static final int MAX_DELAY_MS = 60_000;

  /**
   * Added latency: {@code delayMs} plus a uniformly random 0..{@code jitterMs}, on a fraction of
   * tasks.
   */
  public record Slow(int delayMs, int jitterMs, double fraction) {
    public Slow {
      checkMillis("slow.delay_ms", delayMs);
      checkMillis("slow.jitter_ms", jitterMs);
      checkFraction("slow.fraction", fraction);
    }
  }

  /** A fraction of tasks answer with this status code (never OK) instead of a result. */
  public record Errors(Status.Code code, double fraction) {
    public Errors {
      if (code == null || code == Status.Code.OK) {
        throw new IllegalArgumentException(
            "error.code must be a gRPC status code other than OK, got " + code);
      }
      checkFraction("error.fraction", fraction);
    }

    /** "INTERNAL on 20% of tasks" */
    public String describe() {
      return code + FaultWords.on(fraction);
    }
  }

  /** A fraction of tasks get a wrong result that looks plausible (see {@link Lies}). */
  public record Lie(double fraction) {
    public Lie {
      checkFraction("lie.fraction", fraction);
    }
  }

  /**
   * What to do to one task, drawn by {@link #decide}.
   *
   * @param delayMs extra delay before the task runs (0: none)
   * @param error answer with this code instead of running the task (null: run it)
   * @param lie return a wrong result
   */
  public record TaskFaults(long delayMs, Status.Code error, boolean lie) {
    public static final TaskFaults NONE = new TaskFaults(0, null, false);
  }

  /**
   * Checks and reads the faults of a SetFaults request or a heartbeat.
   *
   * @throws IllegalArgumentException naming the field and its allowed range, for a value out of
   *     range
   */
  public static FaultPlan fromProto(Faults f) {
    Slow slow =
        f.hasSlow()
            ? new Slow(
                f.getSlow().getDelayMs(),
                f.getSlow().getJitterMs(),
                unsetMeansAll(f.getSlow().getFraction()))
            : null;
    Errors errors =
        f.hasError()
            ? new Errors(
                codeNamed(f.getError().getCode()), unsetMeansAll(f.getError().getFraction()))
            : null;
    Lie lie = f.hasLie() ? new Lie(unsetMeansAll(f.getLie().getFraction())) : null;
    return new FaultPlan(slow, errors, lie, f.getFreeze(), f.getMuteHeartbeats());
  }

  /**
   * The faults as sent in replies and heartbeats. Defaults are written out (a fraction of 1, the
   * code UNAVAILABLE), so that a reader of a heartbeat sees what is really in force.
   */
  public Faults toProto() {
    Faults.Builder f = Faults.newBuilder().setFreeze(freeze).setMuteHeartbeats(muteHeartbeats);
    if (slow != null) {
      f.getSlowBuilder()
          .setDelayMs(slow.delayMs())
          .setJitterMs(slow.jitterMs())
          .setFraction(slow.fraction());
    }
    if (errors != null) {
      f.getErrorBuilder().setCode(errors.code().name()).setFraction(errors.fraction());
    }
    if (lie != null) {
      f.getLieBuilder().setFraction(lie.fraction());
    }
    return f.build();
  }

  /**
   * SetFaults: the faults of the kinds given replace the current ones of the same kinds; the other
   * kinds stay as they are.
   *
   * <p>Freeze and mute-heartbeats are plain booleans on the wire (proto3 cannot tell "false" from
   * "not given"), so SetFaults can switch them on but never off: only Heal lifts them.
   */
  public FaultPlan with(FaultPlan given) {
    return new FaultPlan(
        given.slow != null ? given.slow : slow,
        given.errors != null ? given.errors : errors,
        given.lie != null ? given.lie : lie,
        freeze || given.freeze,
        muteHeartbeats || given.muteHeartbeats);
  }

  public boolean isHealthy() {
    return equals(NONE);
  }

  /** Whether the node sends heartbeats: not while frozen or muted. */
  public boolean sendsHeartbeats() {
    return !freeze && !muteHeartbeats;
  }

  /**
   * Draws what happens to one task. Each kind is drawn on its own, in this order: slow (one draw of
   * {@code nextDouble()} if its fraction is below 1, then {@code nextInt(jitter + 1)} if it has a
   * jitter), error (one {@code nextDouble()} if its fraction is below 1), lie (likewise). A
   * fraction of 1 draws nothing. So tests can script the draws.
   *
   * <p>Freeze is not drawn: while it is in force it holds every task (see the Worker service).
   */
  public TaskFaults decide(RandomGenerator random) {
    long delay = 0;
    if (slow != null && hits(slow.fraction(), random)) {
      delay = slow.delayMs() + (slow.jitterMs() == 0 ? 0 : random.nextInt(slow.jitterMs() + 1));
    }
    Status.Code error = errors != null && hits(errors.fraction(), random) ? errors.code() : null;
    boolean lies = lie != null && hits(lie.fraction(), random);
    return new TaskFaults(delay, error, lies);
  }

  private static boolean hits(double fraction, RandomGenerator random) {
    return fraction >= 1 || random.nextDouble() < fraction;
  }

  /**
   * The faults in words, e.g. "slow 200-250 ms on 10% of tasks; lie on 30% of tasks; freeze;
   * mute-heartbeats"; empty when healthy.
   */
  public String describe() {
    return FaultWords.describe(toProto()); // the words every process uses (ftlab status, chaos)
  }

  /** The wire says "0 or unset means 1: every task". */
  private static double unsetMeansAll(double fraction) {
    return fraction == 0 ? 1 : fraction;
  }

  static void checkMillis(String field, long ms) {
    if (ms < 0 || ms > MAX_DELAY_MS) {
      throw new IllegalArgumentException(
          field + " must be between 0 and " + MAX_DELAY_MS + " ms, got " + ms);
    }
  }

  static void checkFraction(String field, double fraction) {
    if (!(fraction > 0 && fraction <= 1)) { // also false for NaN
      throw new IllegalArgumentException(
          field + " must be more than 0 and at most 1 (0 or unset means 1), got " + fraction);
    }
  }

  /** UNAVAILABLE when empty; any other status code name but OK, in any case. */
  static Status.Code codeNamed(String name) {
    if (name.isBlank()) {
      return Status.Code.UNAVAILABLE;
    }
    try {
      Status.Code code = Status.Code.valueOf(name.strip().toUpperCase(Locale.ROOT));
      if (code != Status.Code.OK) {
        return code;
      }
    } catch (IllegalArgumentException notACode) {
      // explained below
    }
    throw new IllegalArgumentException(
        "error.code must be a gRPC status code other than OK ("
            + Arrays.stream(Status.Code.values())
                .filter(c -> c != Status.Code.OK)
                .map(Enum::name)
                .collect(Collectors.joining(", "))
            + "), got "
            + BadRequests.quote(name));
  }
}
