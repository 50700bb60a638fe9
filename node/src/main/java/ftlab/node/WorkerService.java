package ftlab.node;

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
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Computes tasks, at most {@code capacity} at a time. A task beyond that is refused at once with
 * RESOURCE_EXHAUSTED rather than queued: a queue would hide overload from the coordinator, which
 * can send the task to a less busy node instead.
 */
final class WorkerService extends WorkerGrpc.WorkerImplBase {
  private final String nodeId;
  private final int capacity;
  private final Semaphore slots;

  /** Set when the node starts draining: from then on every new task is refused. */
  private volatile boolean draining;

  /** Set when the drain timeout has passed: the node itself is stopping its running tasks. */
  private volatile boolean stopping;

  /**
   * The tasks running now, each with a context of its own that the node can cancel. It is a child
   * of the call's context, so a caller who gives up still cancels the task too.
   */
  private final Set<Context.CancellableContext> running = ConcurrentHashMap.newKeySet();

  WorkerService(String nodeId, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
    }
    this.nodeId = nodeId;
    this.capacity = capacity;
    this.slots = new Semaphore(capacity);
  }

  /** Tasks running right now; reported in heartbeats. */
  int inFlight() {
    return capacity - slots.availablePermits();
  }

  int capacity() {
    return capacity;
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
    if (draining) {
      response.onError(
          Status.UNAVAILABLE
              .withDescription(
                  nodeId + " is draining (shutting down): the task did not run, try another node")
              .asException(Failures.answeredBy(nodeId)));
      return;
    }
    Optional<String> problem = Tasks.problem(request.getTask());
    if (problem.isPresent()) {
      response.onError(
          Status.INVALID_ARGUMENT
              .withDescription(problem.get())
              .asException(Failures.answeredBy(nodeId)));
      return;
    }
    if (!slots.tryAcquire()) {
      response.onError(
          Status.RESOURCE_EXHAUSTED
              .withDescription(
                  nodeId + " is at capacity (" + capacity + " of " + capacity + " tasks running)")
              .asException(Failures.answeredBy(nodeId)));
      return;
    }
    long start = System.nanoTime();
    Context.CancellableContext task = Context.current().withCancellation();
    running.add(task);
    if (stopping) {
      task.cancel(null); // stopRunningTasks() went over the running tasks just before we joined
    }
    TaskResult result;
    try {
      result = run(request.getTask(), task);
    } catch (Primes.CancelledException | InterruptedException e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      response.onError(
          stopping
              ? Status.UNAVAILABLE
                  .withDescription(
                      nodeId
                          + " is shutting down and stopped the task before it finished:"
                          + " no result, try another node")
                  .asException(Failures.answeredBy(nodeId))
              : Status.CANCELLED
                  .withDescription("the caller gave up on the task")
                  .asException(Failures.answeredBy(nodeId)));
      return;
    } finally {
      running.remove(task);
      task.cancel(null); // a cancellable context must be cancelled, or its parent keeps it
      slots.release();
    }
    response.onNext(
        ComputeResponse.newBuilder()
            .setResult(result)
            .setNodeId(nodeId)
            .setComputeMicros((System.nanoTime() - start) / 1_000)
            .build());
    response.onCompleted();
  }

  /** Runs the task, stopping early if the caller cancels (its deadline passed, or it gave up). */
  private static TaskResult run(Task task, Context context) throws InterruptedException {
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
        CountDownLatch cancelled = new CountDownLatch(1);
        context.addListener(c -> cancelled.countDown(), Runnable::run);
        if (cancelled.await(task.getEcho().getDelayMs(), TimeUnit.MILLISECONDS)) {
          throw new Primes.CancelledException();
        }
        yield TaskResult.newBuilder().setEchoed(task.getEcho().getValue()).build();
      }
      default -> throw new IllegalStateException("unvalidated task " + task.getKindCase());
    };
  }
}
