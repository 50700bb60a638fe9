package ftlab.client.watch;

import ftlab.client.Coordinators;
import ftlab.client.Poll;
import ftlab.proto.Answer;
import ftlab.proto.Failures;
import ftlab.proto.SubmitRequest;
import ftlab.task.Tasks;
import io.grpc.ConnectivityState;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The client's side of "no single point of failure": send each request to one coordinator, and if
 * that coordinator is down, frozen or cannot answer, send it to another, until the request's
 * deadline. Requests are spread round-robin, and a coordinator that just failed is avoided for a
 * while ({@link #AVOID_AFTER_FAILURE}) so that not every request pays for finding out again.
 */
final class CoordinatorFailover {
  /** How long a coordinator that failed a call goes to the back of the queue. */
  static final Duration AVOID_AFTER_FAILURE = Duration.ofSeconds(5);

  private final Coordinators coordinators;
  private final Duration attemptTimeout;
  private final Duration requestTimeout;
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicLongArray avoidUntilNanos;

  /** The pause after every coordinator failed a request, before trying them again. */
  static final Duration ROUND_PAUSE = Duration.ofMillis(50);

  /**
   * Rounds in which a coordinator refused the request as full (its admission limit:
   * RESOURCE_EXHAUSTED with {@link Failures#FULL}) and none answered, before the request fails with
   * the reason. The client backs off between them, the pause doubling from {@link #ROUND_PAUSE}:
   * 50, 100, 200 and 400 ms, 0.75 s in all. An overloaded cluster then sheds the excess after about
   * a second, with a reason, instead of every request waiting out its 10 s deadline. (A coordinator
   * that is down in the same round does not stop the backoff; a rate limit's refusal is no "full".)
   */
  static final int FULL_ROUNDS = 5;

  /** How often a coordinator that cannot be reached is tried again, at least. */
  static final Duration RECONNECT_AT_LEAST_EVERY = Duration.ofSeconds(1);

  /** When each coordinator's reconnect wait may next be cut short ({@link System#nanoTime()}). */
  private final AtomicLongArray nextBackoffResetNanos;

  /** The outcome of one call: an answer, or the last error; plus the coordinators that failed. */
  record Result(Answer answer, String error, String coordinator, List<String> failures) {}

  /**
   * @param attemptTimeout how long to wait for one coordinator, on top of the task's expected
   *     duration
   * @param requestTimeout how long to keep trying coordinators in all
   */
  CoordinatorFailover(Coordinators coordinators, Duration attemptTimeout, Duration requestTimeout) {
    this.coordinators = coordinators;
    this.attemptTimeout = attemptTimeout;
    this.requestTimeout = requestTimeout;
    this.avoidUntilNanos = new AtomicLongArray(coordinators.size());
    this.nextBackoffResetNanos = new AtomicLongArray(coordinators.size());
    long now = System.nanoTime();
    for (int i = 0; i < coordinators.size(); i++) {
      // nanoTime may be negative: "not until now" is now, not 0
      avoidUntilNanos.set(i, now);
      nextBackoffResetNanos.set(i, now);
    }
  }

  Result call(SubmitRequest request) {
    Trial trial = new Trial(request);
    try {
      // Poll's own bound is only a backstop: a round ends the request once its deadline passed
      return Poll.until(requestTimeout, ROUND_PAUSE, trial::round).orElseGet(trial::gaveUp);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return trial.end(null, "interrupted");
    }
  }

  private static final String NOT_TRIED = "no coordinator was tried";

  /** One request's tries, round after round: each round asks every coordinator once, in order. */
  private final class Trial {
    private final SubmitRequest request;
    private final long start = System.nanoTime();
    private final long deadline = start + requestTimeout.toNanos();
    private final long perAttempt;
    private final TriedCoordinators failures = new TriedCoordinators();
    private String lastError = NOT_TRIED;
    private String lastCoordinator = coordinators.address(0);
    private int fullRounds;
    private String lastFull;

    Trial(SubmitRequest request) {
      this.request = request;
      this.perAttempt =
          attemptTimeout.toNanos()
              + TimeUnit.MILLISECONDS.toNanos(Tasks.expectedMillis(request.getTask()));
    }

    /**
     * The request's end (an answer, an error no other coordinator would change, or the deadline
     * passed), or empty if every coordinator failed and there is time for another round.
     */
    Optional<Result> round() {
      boolean someFull = false;
      for (int i : order()) {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
          return Optional.of(gaveUp());
        }
        lastCoordinator = coordinators.address(i);
        try {
          Answer answer =
              coordinators
                  .stub(i)
                  .withDeadlineAfter(Math.min(remaining, perAttempt), TimeUnit.NANOSECONDS)
                  .submit(request);
          return Optional.of(end(answer, null));
        } catch (StatusRuntimeException e) {
          Status status = Failures.normalize(e.getStatus());
          if (remaining < perAttempt
              && status.getCode() == Status.Code.DEADLINE_EXCEEDED
              && !lastError.equals(NOT_TRIED)) {
            // the request's own deadline cut this try short: what the coordinators said before
            // is the reason, not our clock
            lastError += " (then no answer before the request's deadline)";
            return Optional.of(gaveUp());
          }
          lastError = Coordinators.explain(status);
          if (!Failures.isRetryable(status)) { // another coordinator would fail the same way
            return Optional.of(end(null, lastError));
          }
          failures.failed(
              lastCoordinator, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), lastError);
          if (Failures.refusedAsFull(e)) {
            someFull = true;
            lastFull = lastError;
          }
          avoidUntilNanos.set(i, System.nanoTime() + AVOID_AFTER_FAILURE.toNanos());
        }
      }
      // every coordinator failed this round
      if (!someFull) {
        return Optional.empty();
      }
      fullRounds++;
      if (fullRounds >= FULL_ROUNDS) {
        return Optional.of(
            end(
                null,
                "refused as full in "
                    + fullRounds
                    + " rounds, "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)
                    + " ms in all: "
                    + lastFull));
      }
      // back off: the round's own pause (Poll's) plus this one, doubling
      long pause =
          Math.min(
              ROUND_PAUSE.toNanos() * ((1L << (fullRounds - 1)) - 1),
              Math.max(0, deadline - System.nanoTime()));
      try {
        TimeUnit.NANOSECONDS.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.of(end(null, "interrupted"));
      }
      return Optional.empty();
    }

    Result gaveUp() {
      return end(null, "gave up after " + requestTimeout.toMillis() + " ms: " + lastError);
    }

    Result end(Answer answer, String error) {
      return new Result(answer, error, lastCoordinator, failures.sentences());
    }
  }

  /**
   * Coordinators in the order to try: first those connected right now (round-robin among them),
   * then those not connected (asking gRPC to connect them in the background), then those that
   * failed a call in the last {@link #AVOID_AFTER_FAILURE}.
   *
   * <p>Why connected first: a coordinator whose container was stopped leaves an address that
   * nothing answers, not even with a refusal, so a call to it waits for its whole deadline. Sending
   * requests only where a connection is up, while the reconnect is tried aside, keeps that wait off
   * the requests.
   */
  private List<Integer> order() {
    int n = coordinators.size();
    int first = Math.floorMod(next.getAndIncrement(), n);
    long now = System.nanoTime();
    List<Integer> connected = new ArrayList<>();
    List<Integer> notConnected = new ArrayList<>();
    List<Integer> avoided = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      int i = (first + k) % n;
      ConnectivityState state = coordinators.channel(i).getState(true);
      if (state == ConnectivityState.TRANSIENT_FAILURE && now - nextBackoffResetNanos.get(i) >= 0) {
        // gRPC waits longer and longer between reconnects (up to 2 minutes): a coordinator that
        // comes back should get its share again within a second, so cut the wait short
        nextBackoffResetNanos.set(i, now + RECONNECT_AT_LEAST_EVERY.toNanos());
        coordinators.channel(i).resetConnectBackoff();
      }
      if (avoidUntilNanos.get(i) - now > 0) {
        avoided.add(i);
      } else if (state == ConnectivityState.READY) {
        connected.add(i);
      } else {
        notConnected.add(i);
      }
    }
    connected.addAll(notConnected);
    connected.addAll(avoided);
    return connected;
  }
}
