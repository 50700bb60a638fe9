package ftlab.node;

import ftlab.clock.Scheduler;
import ftlab.node.faults.FaultPlan;
import ftlab.node.faults.Lies;
import ftlab.node.faults.NodeFaults;
import ftlab.proto.ComputeRequest;
import ftlab.proto.ComputeResponse;
import ftlab.proto.Failures;
import ftlab.proto.Task;
import ftlab.proto.TaskResult;
import ftlab.proto.WorkerGrpc;
import ftlab.task.Primes;
import ftlab.task.Tasks;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Computes tasks, at most {@code capacity} at a time. A task beyond that is refused at once with
 * RESOURCE_EXHAUSTED rather than queued: a queue would hide overload from the coordinator, which
 * can send the task to a less busy node instead.
 *
 * <p>It also applies the faults injected into the node ({@link NodeFaults}), to each task, in this
 * order: a freeze holds the task before anything else; then, once it has a slot, it may be slowed,
 * answered with an injected error, or computed and answered with a wrong result; a freeze that
 * began meanwhile holds the answer until it is lifted.
 *
 * <p>Time: an echo task's delay and an injected slowness are waits on the {@link Scheduler} the
 * worker is given (a real timer in a node process, a fake clock in tests), cut short when the task
 * is cancelled. Each task still has a thread of its own while it runs, as real work would.
 */
final class WorkerService extends WorkerGrpc.WorkerImplBase {
  private static final Logger log = LoggerFactory.getLogger("node");

  private final String nodeId;
  private final int capacity;
  private final Semaphore slots;
  private final NodeFaults faults;
  private final Scheduler clock;

  /** Per-task draws: which tasks are slowed, fail or lie. Called on the task's thread. */
  private final Supplier<RandomGenerator> random;

  /** Set when the node starts draining: from then on every new task is refused. */
  private volatile boolean draining;

  /** Set when the drain timeout has passed: the node itself is stopping its running tasks. */
  private volatile boolean stopping;

  /**
   * The tasks in the node now (running, or held by a freeze), each with a context of its own that
   * the node can cancel. It is a child of the call's context, so a caller who gives up still
   * cancels the task too.
   */
  private final Set<Context.CancellableContext> running = ConcurrentHashMap.newKeySet();

  /** Hear how each task ended. */
  private final List<TaskListener> listeners = new CopyOnWriteArrayList<>();

  /**
   * @param random the per-task draws of the faults
   * @param clock the tasks' waits (an echo's delay, an injected slowness) and their timing
   */
  WorkerService(
      String nodeId,
      int capacity,
      NodeFaults faults,
      Supplier<RandomGenerator> random,
      Scheduler clock) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
    }
    this.nodeId = nodeId;
    this.capacity = capacity;
    this.slots = new Semaphore(capacity);
    this.faults = faults;
    this.clock = clock;
    this.random = random;
  }

  /** Tasks running right now; reported in heartbeats. */
  int inFlight() {
    return capacity - slots.availablePermits();
  }

  int capacity() {
    return capacity;
  }

  /** Subscribes {@code listener} to how every task ends from now on. */
  void listen(TaskListener listener) {
    listeners.add(listener);
  }

  private void ended(TaskOutcome outcome) {
    for (TaskListener l : listeners) {
      try {
        l.taskEnded(outcome);
      } catch (RuntimeException e) {
        log.error("a task listener failed on {}", outcome, e);
      }
    }
  }

  /**
   * Refuses every new task from now on with UNAVAILABLE (the task did not run: the caller can send
   * it to another node). Tasks already running go on.
   */
  void stopAccepting() {
    draining = true;
  }

  /**
   * Stops the running tasks, which answer their callers UNAVAILABLE: no result, send the task to
   * another node. Tasks have no side effects, so running them again elsewhere is safe.
   *
   * <p>Why not just shut the server down: that resets the calls, which callers see as CANCELLED,
   * and a coordinator does not retry CANCELLED (it means that the caller gave up).
   */
  void stopRunningTasks() {
    stopping = true;
    for (Context.CancellableContext task : running) {
      task.cancel(null);
    }
  }

  @Override
  public void compute(ComputeRequest request, StreamObserver<ComputeResponse> response) {
    // The task's own context, which the node can cancel (drain). It is a child of the call's
    // context, so a caller who gives up still cancels the task too.
    Context.CancellableContext task = Context.current().withCancellation();
    running.add(task);
    if (stopping) {
      task.cancel(null); // stopRunningTasks() went over the running tasks just before we joined
    }
    try {
      compute(request, task, response);
    } finally {
      running.remove(task);
      task.cancel(null); // a cancellable context must be cancelled, or its parent keeps it
    }
  }

  private void compute(
      ComputeRequest request, Context task, StreamObserver<ComputeResponse> response) {
    // A frozen node holds every task that arrives, unanswered, before even looking at it: like a
    // process stopped with SIGSTOP, whose requests wait unread in its socket buffers. So a held
    // task takes no slot (the slots are for tasks being worked on) and the node does not answer
    // RESOURCE_EXHAUSTED either, which would tell the caller that it is alive. The caller sees
    // silence until its deadline, which is what the freeze is meant to show.
    if (!awaitThaw(task, response)) {
      return;
    }
    if (draining) {
      ended(TaskOutcome.DRAINING);
      response.onError(
          Status.UNAVAILABLE
              .withDescription(
                  nodeId + " is draining (shutting down): the task did not run, try another node")
              .asException(Failures.answeredBy(nodeId)));
      return;
    }
    Optional<String> problem = Tasks.problem(request.getTask());
    if (problem.isPresent()) {
      ended(TaskOutcome.INVALID);
      response.onError(
          Status.INVALID_ARGUMENT
              .withDescription(problem.get())
              .asException(Failures.answeredBy(nodeId)));
      return;
    }
    if (!slots.tryAcquire()) {
      ended(TaskOutcome.BUSY);
      response.onError(
          Status.RESOURCE_EXHAUSTED
              .withDescription(
                  nodeId + " is at capacity (" + capacity + " of " + capacity + " tasks running)")
              .asException(Failures.answeredBy(nodeId)));
      return;
    }
    long start = clock.nanoTime();
    FaultPlan plan = faults.current();
    FaultPlan.TaskFaults injected = plan.decide(random.get());
    TaskResult result = null;
    try {
      // A slowed task holds its slot while it waits, as a really slow task would: a slowed node
      // under load fills up and starts refusing work, which the coordinator then sends elsewhere.
      if (injected.delayMs() > 0) {
        pause(task, injected.delayMs());
      }
      if (injected.error() == null) {
        result = run(request.getTask(), task);
        if (injected.lie()) {
          result = Lies.wrong(request.getTask(), result);
        }
      }
      // A task that was running when a freeze began keeps its slot, and its answer waits until
      // the freeze is lifted: a frozen process sends nothing.
      if (!awaitThaw(task, response)) {
        return;
      }
    } catch (Primes.CancelledException | InterruptedException e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      response.onError(cancelled());
      return;
    } finally {
      slots.release(); // before answering, so that the caller's next task finds the slot free
    }
    if (injected.error() != null) {
      ended(TaskOutcome.INJECTED_ERROR);
      // an answer from the node itself, like its other refusals: the node is up and talking
      response.onError(
          Status.fromCode(injected.error())
              .withDescription(nodeId + ": injected fault: " + plan.errors().describe())
              .asException(Failures.answeredBy(nodeId)));
      return;
    }
    ended(injected.lie() ? TaskOutcome.LIED : TaskOutcome.ANSWERED);
    response.onNext(
        ComputeResponse.newBuilder()
            .setResult(result)
            .setNodeId(nodeId)
            .setComputeMicros((clock.nanoTime() - start) / 1_000)
            .build());
    response.onCompleted();
  }

  /**
   * Holds the task while the node is frozen.
   *
   * @return whether to go on; if not, the task was cancelled and its caller has been answered
   */
  private boolean awaitThaw(Context task, StreamObserver<ComputeResponse> response) {
    try {
      if (faults.awaitThaw(task)) {
        return true;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    response.onError(cancelled());
    return false;
  }

  /** The answer to a task that was stopped before it finished. */
  private Throwable cancelled() {
    ended(stopping ? TaskOutcome.STOPPED : TaskOutcome.CANCELLED);
    return stopping
        ? Status.UNAVAILABLE
            .withDescription(
                nodeId
                    + " is shutting down and stopped the task before it finished:"
                    + " no result, try another node")
            .asException(Failures.answeredBy(nodeId))
        : Status.CANCELLED
            .withDescription("the caller gave up on the task")
            .asException(Failures.answeredBy(nodeId));
  }

  /**
   * Waits {@code millis} on the clock, or less if the task is cancelled first (then throws). The
   * task's thread waits; the clock wakes it.
   */
  private void pause(Context task, long millis) throws InterruptedException {
    if (millis <= 0) {
      if (task.isCancelled()) {
        throw new Primes.CancelledException();
      }
      return;
    }
    CountDownLatch over = new CountDownLatch(1);
    Context.CancellationListener wake = c -> over.countDown();
    task.addListener(wake, Runnable::run);
    Optional<Scheduler.Cancellable> timer =
        clock.scheduleIfRunning(over::countDown, TimeUnit.MILLISECONDS.toNanos(millis));
    try {
      if (timer.isEmpty()) {
        throw new Primes.CancelledException(); // the node is stopping: no timer to wake us
      }
      over.await();
      if (task.isCancelled()) {
        throw new Primes.CancelledException();
      }
    } finally {
      task.removeListener(wake);
      timer.ifPresent(Scheduler.Cancellable::cancel);
    }
  }

  /** Runs the task, stopping early if the caller cancels (its deadline passed, or it gave up). */
  private TaskResult run(Task task, Context context) throws InterruptedException {
    return switch (task.getKindCase()) {
      case COUNT_PRIMES ->
          TaskResult.newBuilder()
              .setPrimeCount(
                  Primes.count(
                      task.getCountPrimes().getFrom(),
                      task.getCountPrimes().getTo(),
                      context::isCancelled))
              .build();
      case ECHO -> {
        pause(context, task.getEcho().getDelayMs());
        yield TaskResult.newBuilder().setEchoed(task.getEcho().getValue()).build();
      }
      default -> throw new IllegalStateException("unvalidated task " + task.getKindCase());
    };
  }
}
