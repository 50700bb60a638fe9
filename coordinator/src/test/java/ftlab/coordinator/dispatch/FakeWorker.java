package ftlab.coordinator.dispatch;

import ftlab.proto.ComputeRequest;
import ftlab.proto.ComputeResponse;
import ftlab.proto.Failures;
import ftlab.proto.TaskResult;
import ftlab.proto.WorkerGrpc;
import ftlab.task.Tasks;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A worker node for tests: a real Worker gRPC service on gRPC's in-process transport, which behaves
 * the way its script says, one behaviour per call (the last one repeats), and remembers every
 * request it got. A node that refuses connections needs no FakeWorker at all: an in-process name
 * that no server is bound to answers UNAVAILABLE, like a closed port; so does a FakeWorker after
 * {@link #crash()}.
 */
public final class FakeWorker extends WorkerGrpc.WorkerImplBase {

  /** How the node answers one call. */
  public enum Behaviour {
    /** Answers at once with the correct result. */
    HEALTHY,
    /**
     * Never answers, like a frozen process (SIGSTOP) whose socket is still open: only the caller's
     * deadline ends the call.
     */
    HANGING,
    /** At capacity: refuses with RESOURCE_EXHAUSTED, as the real node does. */
    BUSY,
    /** Fails with INTERNAL: a failure that no other node can fix, so it must not be retried. */
    BROKEN,
    /**
     * Shutting down: refuses with UNAVAILABLE, marked as its own answer (the ftlab-answered-by
     * trailer), as the real node does while it drains.
     */
    DRAINING,
    /**
     * Answers at once with a wrong but plausible result (a prime count off by one): a lying node,
     * as the real node's "lie" fault makes it.
     */
    LYING,
    /** Like {@link #LYING}, with another wrong result (off by two): liars need not agree. */
    LYING_OTHERWISE
  }

  private final String nodeId;
  private final List<Behaviour> script;
  private final List<ComputeRequest> received = new CopyOnWriteArrayList<>();
  private final CountDownLatch cancelled = new CountDownLatch(1);
  private volatile Runnable onCall = () -> {};
  private Server server;

  private FakeWorker(String nodeId, List<Behaviour> script) {
    this.nodeId = nodeId;
    this.script = script;
  }

  /**
   * Starts a worker serving at the in-process name {@code address}.
   *
   * @param script the behaviour for the first call, the second call..., the last one repeats
   */
  public static FakeWorker serving(String nodeId, String address, Behaviour... script)
      throws IOException {
    if (script.length == 0) {
      throw new IllegalArgumentException("a FakeWorker needs at least one behaviour");
    }
    FakeWorker worker = new FakeWorker(nodeId, List.of(script));
    worker.server =
        InProcessServerBuilder.forName(address).directExecutor().addService(worker).build().start();
    return worker;
  }

  @Override
  public void compute(ComputeRequest request, StreamObserver<ComputeResponse> response) {
    received.add(request);
    onCall.run();
    Behaviour now = script.get(Math.min(received.size(), script.size()) - 1);
    switch (now) {
      case HEALTHY -> {
        response.onNext(
            ComputeResponse.newBuilder()
                .setResult(Tasks.expectedResult(request.getTask()))
                .setNodeId(nodeId)
                .build());
        response.onCompleted();
      }
      case HANGING ->
          // Keep the call open and do nothing. gRPC tells us when the caller gives up.
          ((ServerCallStreamObserver<ComputeResponse>) response)
              .setOnCancelHandler(cancelled::countDown);
      case BUSY ->
          response.onError(
              Status.RESOURCE_EXHAUSTED
                  .withDescription(nodeId + " is at capacity: 4 of 4 tasks running")
                  .asRuntimeException());
      case BROKEN ->
          response.onError(
              Status.INTERNAL
                  .withDescription(nodeId + " hit a bug: NullPointerException")
                  .asRuntimeException());
      case LYING, LYING_OTHERWISE -> {
        int off = now == Behaviour.LYING ? 1 : 2;
        TaskResult right = Tasks.expectedResult(request.getTask());
        response.onNext(
            ComputeResponse.newBuilder()
                .setResult(
                    right.hasPrimeCount()
                        ? TaskResult.newBuilder().setPrimeCount(right.getPrimeCount() + off).build()
                        : TaskResult.newBuilder()
                            .setEchoed(right.getEchoed() + "?".repeat(off))
                            .build())
                .setNodeId(nodeId)
                .build());
        response.onCompleted();
      }
      case DRAINING ->
          response.onError(
              Status.UNAVAILABLE
                  .withDescription(nodeId + " is draining (shutting down): the task did not run")
                  .asRuntimeException(Failures.answeredBy(nodeId)));
    }
  }

  /** Runs {@code hook} when a call arrives, before the node behaves: to act at an exact moment. */
  public void onCall(Runnable hook) {
    this.onCall = hook;
  }

  /** Every request this node got, in order. */
  public List<ComputeRequest> received() {
    return List.copyOf(received);
  }

  public int calls() {
    return received.size();
  }

  /** Waits at most {@code bound} for a hanging call to be cancelled by its caller. */
  public boolean awaitCancelled(Duration bound) throws InterruptedException {
    return cancelled.await(bound.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stops the server at once, like a killed process: new calls to its address are refused. */
  public void crash() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
  }
}
