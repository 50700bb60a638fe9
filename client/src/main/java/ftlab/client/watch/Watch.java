package ftlab.client.watch;

import ftlab.client.Coordinators;
import ftlab.proto.Redundancy;
import ftlab.proto.SubmitRequest;
import ftlab.proto.Task;
import ftlab.proto.TaskResult;
import ftlab.task.Tasks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A steady, bounded stream of requests to the coordinators, each answer checked against the answer
 * the client computes itself. Bounded twice: by count and by duration, whichever comes first, so a
 * forgotten watch always stops by itself.
 */
public final class Watch {

  /**
   * @param rate requests per second in all; 0 means as fast as {@code concurrency} allows
   * @param concurrency requests in flight at most
   * @param duration stop after this long
   * @param count stop after this many requests; 0 means no limit but the duration
   * @param attemptTimeout how long to wait for one coordinator before trying another, on top of the
   *     task's own expected duration
   * @param requestTimeout how long to keep trying before counting the request as failed
   * @param redundancy the mode every request asks for; the default instance leaves it to each
   *     coordinator's own mode
   */
  public record Settings(
      double rate,
      int concurrency,
      Duration duration,
      long count,
      Duration attemptTimeout,
      Duration requestTimeout,
      TaskMix tasks,
      Redundancy redundancy) {

    public static final Settings DEFAULT =
        new Settings(
            20,
            4,
            Duration.ofMinutes(10),
            0,
            Duration.ofSeconds(2),
            Duration.ofSeconds(10),
            TaskMix.DEFAULT,
            Redundancy.getDefaultInstance());

    public Settings {
      if (rate < 0 || rate > 100_000) {
        throw new IllegalArgumentException(
            "rate must be between 0 and 100000 per second, got " + rate);
      }
      if (concurrency < 1 || concurrency > 1_000) {
        throw new IllegalArgumentException(
            "concurrency must be between 1 and 1000, got " + concurrency);
      }
      if (duration.isNegative()
          || duration.isZero()
          || duration.compareTo(Duration.ofDays(1)) > 0) {
        throw new IllegalArgumentException(
            "duration must be more than 0 and at most 24 h, got " + duration.toSeconds() + " s");
      }
      if (count < 0) {
        throw new IllegalArgumentException("count must be 0 (no limit) or more, got " + count);
      }
      if (attemptTimeout.toMillis() < 1) {
        throw new IllegalArgumentException(
            "coordinator timeout must be at least 1 ms, got " + attemptTimeout.toMillis() + " ms");
      }
      if (requestTimeout.toMillis() < 1) {
        throw new IllegalArgumentException(
            "timeout must be at least 1 ms, got " + requestTimeout.toMillis() + " ms");
      }
    }

    public Settings withRate(double r) {
      return new Settings(
          r, concurrency, duration, count, attemptTimeout, requestTimeout, tasks, redundancy);
    }

    public Settings withConcurrency(int c) {
      return new Settings(
          rate, c, duration, count, attemptTimeout, requestTimeout, tasks, redundancy);
    }

    public Settings withDuration(Duration d) {
      return new Settings(
          rate, concurrency, d, count, attemptTimeout, requestTimeout, tasks, redundancy);
    }

    public Settings withTasks(TaskMix t) {
      return new Settings(
          rate, concurrency, duration, count, attemptTimeout, requestTimeout, t, redundancy);
    }

    public Settings withRedundancy(Redundancy r) {
      return new Settings(
          rate, concurrency, duration, count, attemptTimeout, requestTimeout, tasks, r);
    }
  }

  private final Coordinators coordinators;
  private final Settings settings;
  private final Stats stats = new Stats();
  private volatile boolean stopping;
  private final AtomicLong sent = new AtomicLong();

  public Watch(Coordinators coordinators, Settings settings) {
    this.coordinators = coordinators;
    this.settings = settings;
  }

  /** Asks the watch to stop after the requests in flight; {@link #run} then returns. */
  public void stop() {
    stopping = true;
  }

  /** How many requests were sent so far (each ends with an outcome, or is lost). */
  public long sent() {
    return sent.get();
  }

  /**
   * Runs the watch to its end.
   *
   * @param onOutcome called for every request, from the load threads
   * @param onInterval called every {@code interval} with that interval's summary
   * @return the summary of the whole run
   */
  public Summary run(Consumer<Outcome> onOutcome, Consumer<Summary> onInterval, Duration interval)
      throws InterruptedException {
    CoordinatorFailover failover =
        new CoordinatorFailover(coordinators, settings.attemptTimeout(), settings.requestTimeout());
    // Connections first, outside every request's clock: a fresh JVM can take longer to open its
    // first connection than a request's whole timeout.
    coordinators.connect(Coordinators.CONNECT_FIRST);
    long start = System.nanoTime();
    long end = start + settings.duration().toNanos();
    AtomicLong nextId = new AtomicLong(1);
    CountDownLatch done = new CountDownLatch(settings.concurrency());
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < settings.concurrency(); t++) {
      Thread thread =
          new Thread(
              () -> {
                try {
                  loop(failover, nextId, start, end, onOutcome);
                } finally {
                  done.countDown();
                }
              },
              "load-" + t);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
    while (!done.await(interval.toMillis(), TimeUnit.MILLISECONDS)) {
      onInterval.accept(stats.takeInterval());
    }
    return stats.total();
  }

  private void loop(
      CoordinatorFailover failover,
      AtomicLong nextId,
      long start,
      long end,
      Consumer<Outcome> onOutcome) {
    while (!stopping) {
      long id = nextId.getAndIncrement();
      if (settings.count() > 0 && id > settings.count()) {
        return;
      }
      if (settings.rate() > 0) {
        // request number id is due at start + (id - 1) / rate: a steady pace, not bursts
        long due = start + (long) ((id - 1) * 1e9 / settings.rate());
        long wait = due - System.nanoTime();
        if (due - end >= 0) {
          return;
        }
        if (wait > 0) {
          try {
            TimeUnit.NANOSECONDS.sleep(wait);
          } catch (InterruptedException e) {
            return;
          }
        }
      }
      if (System.nanoTime() - end >= 0 || stopping) {
        return;
      }
      sent.incrementAndGet();
      Outcome o = one(failover, id);
      stats.record(o);
      onOutcome.accept(o);
    }
  }

  private Outcome one(CoordinatorFailover failover, long id) {
    Task task = settings.tasks().task(id);
    TaskResult expected = Tasks.expectedResult(task);
    SubmitRequest request =
        SubmitRequest.newBuilder()
            .setRequestId("r" + id)
            .setTask(task)
            .setRedundancy(settings.redundancy())
            .build();
    long sent = System.nanoTime();
    CoordinatorFailover.Result r = failover.call(request);
    long latency = System.nanoTime() - sent;
    return new Outcome(
        id, task, expected, r.answer(), r.error(), r.coordinator(), r.failures(), sent, latency);
  }
}
