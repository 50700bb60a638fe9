package ftlab.coordinator.dispatch;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import ftlab.clock.Scheduler;
import ftlab.proto.ComputeRequest;
import ftlab.proto.ComputeResponse;
import ftlab.proto.Failures;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Optional;

/**
 * The network side of one request's attempts: making each attempt's call (with its timeout on the
 * one clock), cancelling the calls no longer needed, and handing every end back to the run ({@link
 * Ends}). Called only outside the run's lock; it takes the lock just to read and write an attempt's
 * call, so that an attempt that ended meanwhile (the run settled, or it timed out while its call
 * was being made) is never started, never left running, and its load is given back exactly once.
 */
final class AttemptCalls {

  /** Where an attempt's end goes: its run, which decides what next under its lock. */
  interface Ends {
    /**
     * The node called answered (an answer from another node has already been turned into a
     * failure).
     */
    void onAnswer(AttemptOnNode a, ComputeResponse response);

    /** The call failed: refused, broken, the node's own error, or answered by another node. */
    void onFailure(AttemptOnNode a, Throwable t);

    /** The attempt's timeout passed with no answer. */
    void onTimeout(AttemptOnNode a);
  }

  private final Dispatcher.Shared shared;
  private final Context context;
  private final ComputeRequest computeRequest;
  private final Object runLock;
  private final Ends ends;

  /**
   * @param context the request's: calls inherit the client's deadline, and a client who gives up
   *     cancels the attempts on the nodes too
   * @param runLock the lock that guards the run's attempts
   */
  AttemptCalls(
      Dispatcher.Shared shared,
      Context context,
      ComputeRequest computeRequest,
      Object runLock,
      Ends ends) {
    this.shared = shared;
    this.context = context;
    this.computeRequest = computeRequest;
    this.runLock = runLock;
    this.ends = ends;
  }

  /**
   * Starts one attempt: its timeout first, then its call; the call's end comes back to {@link
   * Ends#onAnswer} or {@link Ends#onFailure}, the timeout's to {@link Ends#onTimeout}.
   */
  void launch(AttemptOnNode a) {
    synchronized (runLock) {
      if (a.ended) {
        return; // the run settled before this attempt got going: it never starts
      }
      a.launched = true;
    }
    shared.cluster().attemptStarted(a.nodeId());
    // the timer before the call: a call can answer before compute() even returns
    Optional<Scheduler.Cancellable> timeout =
        shared.scheduler().scheduleIfRunning(() -> ends.onTimeout(a), a.timeoutNanos);
    boolean endedMeanwhile;
    boolean releaseNow;
    synchronized (runLock) {
      a.timeout = timeout.orElse(null); // none only when shutting down: the deadline backstops
      endedMeanwhile = a.ended; // the run settled (or, with a tiny timeout, it timed out) already
      releaseNow = endedMeanwhile && !a.released;
      a.released |= releaseNow;
    }
    if (endedMeanwhile) {
      timeout.ifPresent(Scheduler.Cancellable::cancel);
      if (releaseNow) {
        shared.cluster().attemptCancelled(a.nodeId());
      }
      return; // no call made: nobody waits for it
    }
    ListenableFuture<ComputeResponse> call = call(a);
    boolean ended;
    boolean release;
    synchronized (runLock) {
      a.call = call;
      ended = a.ended; // the run settled, or the attempt timed out, while we were starting it
      release = ended && !a.released;
      a.released |= release;
    }
    if (ended) {
      if (release) {
        shared.cluster().attemptCancelled(a.nodeId());
      }
      if (a.timeout != null) {
        a.timeout.cancel();
      }
      call.cancel(true);
      return;
    }
    Futures.addCallback(
        call,
        new FutureCallback<>() {
          @Override
          public void onSuccess(ComputeResponse response) {
            if (!response.getNodeId().isEmpty() && !response.getNodeId().equals(a.nodeId())) {
              ends.onFailure(a, misdirected(a, response.getNodeId()));
            } else {
              ends.onAnswer(a, response);
            }
          }

          @Override
          public void onFailure(Throwable t) {
            ends.onFailure(a, t);
          }
        },
        MoreExecutors.directExecutor());
  }

  /**
   * Another node answered at this node's address: the connection was opened when the name led
   * elsewhere (containers that restart together can swap IP addresses, and a name lookup is cached
   * for a while). Its answer is not this node's, so it is not taken (in vote mode it would be a
   * second vote from one node): the attempt fails UNAVAILABLE, as sent by the process at that
   * address (so no evidence against the node, whose heartbeats say it is alive: only our way to it
   * was wrong). The caller has dropped that connection, so the next call looks the name up again.
   */
  private static StatusRuntimeException misdirected(AttemptOnNode a, String answeredBy) {
    return Status.UNAVAILABLE
        .withDescription(
            a.node.address()
                + " was answered by "
                + answeredBy
                + ", not "
                + a.nodeId()
                + ": the name leads elsewhere now; connecting again")
        .asRuntimeException(Failures.answeredBy(answeredBy));
  }

  /** The call itself, in the request's context; a call that cannot even be made fails like one. */
  private ListenableFuture<ComputeResponse> call(AttemptOnNode a) {
    Context previous = context.attach();
    try {
      return shared.caller().compute(a.node.address(), a.nodeId(), computeRequest, a.timeoutNanos);
    } catch (RuntimeException e) {
      // e.g. an address no channel can be built for: a failed attempt like any other, so that its
      // load is released and the request goes on
      return Futures.immediateFailedFuture(
          Status.UNAVAILABLE
              .withDescription("could not call " + a.node.address() + ": " + e.getMessage())
              .asRuntimeException());
    } finally {
      context.detach(previous);
    }
  }

  /** Cancels the call of an attempt the run ended (cancelled), giving its load back once. */
  void cancel(AttemptOnNode a) {
    ListenableFuture<ComputeResponse> call;
    synchronized (runLock) {
      call = a.released ? null : a.call;
      a.released |= call != null;
    }
    if (call != null) {
      shared.cluster().attemptCancelled(a.nodeId());
      // true: for a gRPC future, only a cancel that "may interrupt" cancels the call itself,
      // which tells the node to stop the work
      call.cancel(true);
    }
    // an attempt without a call yet is being launched on another thread (or further up this
    // one): launch() sees it has ended, and does not start it
  }
}
