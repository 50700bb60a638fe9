package ftlab.coordinator.dispatch;

import com.google.common.base.Suppliers;
import com.google.common.util.concurrent.ListenableFuture;
import ftlab.clock.Scheduler;
import ftlab.coordinator.picker.Candidate;
import ftlab.proto.Answer;
import ftlab.proto.AttemptKind;
import ftlab.proto.ComputeRequest;
import ftlab.proto.ComputeResponse;
import ftlab.proto.Failures;
import ftlab.proto.SubmitRequest;
import ftlab.task.Tasks;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * One request, from its first attempt to its answer: what every redundancy mode shares. It keeps
 * the request's deadline, the attempts in flight, the rounds (when every node failed: a pause, then
 * all of them again) and the provenance; the mode's {@link ModePolicy} decides what to do after
 * each event, and the run does it.
 *
 * <p>Several attempts may be in flight at once (hedged, parallel, vote), and their callbacks arrive
 * on gRPC's threads, timers on the scheduler's: every event takes the run's lock, decides, and
 * leaves what it decided to do to {@link AfterLock}, done once the lock is released (network calls
 * never happen under it: {@link AttemptCalls} makes them).
 */
final class RequestRun implements AttemptCalls.Ends {
  private final Dispatcher.Shared shared;
  private final SubmitRequest request;
  private final StreamObserver<Answer> responses;
  private final Context context;
  private final ModePolicy policy;
  private final Deadline deadline;

  /** Whether {@link #deadline} is the coordinator's cap, sooner than the client's own deadline. */
  private final boolean capped;

  /** How long the client's deadline gave the request when it arrived (0: it set none). */
  private final long clientAllowedNanos;

  private final AttemptCalls calls;
  private final long startNanos;
  private final long expectedNanos;

  /**
   * An attempt's deadline: the attempt timeout plus the task's own expected duration, so that a
   * long task is not mistaken for a frozen node.
   */
  private final long attemptBudgetNanos;

  // guarded by this
  private final RequestAttempts attempts = new RequestAttempts();
  private final Rounds rounds;
  private boolean hedged;
  private AttemptOnNode hedge;

  /** Answered or failed: nothing more happens but the cancelled attempts' callbacks. */
  private boolean settled;

  private Scheduler.Cancellable wakeUp;

  /** The pauses so far: a wake-up for an earlier pause starts nothing. Guarded by this. */
  private long pauses;

  /** The current pause's place among the requests waiting for a slot. Guarded by this. */
  private Waiters.Waiter waiting;

  /**
   * The current pause began with every node full (but those failed for good, which it never asks
   * again): a slot that frees and is taken before this request's next round leaves none for the
   * requests behind it either. Guarded by this.
   */
  private boolean noRoomAnywhere;

  /** How many of its pauses were for a task slot, for the request's error. Guarded by this. */
  private int pausesForRoom;

  /** Who hears this request's events: those listening when it started, to its end. */
  private final List<DispatchListeners.Guarded> listeners;

  private final boolean listening;

  /** Events decided and not yet handed to the listeners, in the order decided. Guarded by this. */
  private List<DispatchEvent> outbox = new ArrayList<>();

  /** A thread is handing events over: the others leave theirs to it. Guarded by this. */
  private boolean delivering;

  RequestRun(
      Dispatcher.Shared shared,
      SubmitRequest request,
      StreamObserver<Answer> responses,
      Context context,
      ModePolicy policy) {
    this.shared = shared;
    this.request = request;
    this.responses = responses;
    this.context = context;
    this.policy = policy;
    this.startNanos = now();
    this.listeners = shared.listeners().now();
    this.listening = !listeners.isEmpty();
    this.rounds = new Rounds(shared.settings().roundBackoff().toNanos());
    // the client's deadline, at most Dispatcher.MAX_REQUEST_TIME, or the coordinator's own, on
    // the one clock (Scheduler)
    Deadline cap =
        Deadline.after(
            Dispatcher.MAX_REQUEST_TIME.toNanos(),
            TimeUnit.NANOSECONDS,
            shared.scheduler().ticker());
    Deadline client = context.getDeadline();
    this.clientAllowedNanos = client == null ? 0 : client.timeRemaining(TimeUnit.NANOSECONDS);
    // by time remaining, not Deadline.isBefore: the client's deadline may run on another ticker
    this.capped = client != null && clientAllowedNanos > Dispatcher.MAX_REQUEST_TIME.toNanos();
    this.deadline =
        client == null
            ? Deadline.after(
                shared.settings().requestTimeout().toNanos(),
                TimeUnit.NANOSECONDS,
                shared.scheduler().ticker())
            : capped ? cap : client;
    this.expectedNanos = TimeUnit.MILLISECONDS.toNanos(Tasks.expectedMillis(request.getTask()));
    this.attemptBudgetNanos = shared.settings().attemptTimeout().toNanos() + expectedNanos;
    this.calls =
        new AttemptCalls(
            shared,
            context,
            ComputeRequest.newBuilder()
                .setRequestId(request.getRequestId())
                .setTask(request.getTask())
                .build(),
            this,
            this);
  }

  // ---- events: each decides under the lock, then acts ----

  void start() {
    AfterLock after = new AfterLock();
    synchronized (this) {
      decide(after, RequestView.Trigger.STARTED);
    }
    OptionalLong wakeUpAfter = policy.wakeUpAfterNanos(expectedNanos);
    if (wakeUpAfter.isPresent() && !isSettled()) {
      Optional<Scheduler.Cancellable> timer =
          shared.scheduler().scheduleIfRunning(this::wokenUp, wakeUpAfter.getAsLong());
      synchronized (this) {
        wakeUp = timer.orElse(null);
        if (settled && wakeUp != null) {
          wakeUp.cancel(); // settled while the timer was being set
        }
      }
    }
    act(after);
  }

  private synchronized boolean isSettled() {
    return settled;
  }

  private void wokenUp() {
    AfterLock after = new AfterLock();
    synchronized (this) {
      decide(after, RequestView.Trigger.WOKEN);
    }
    act(after);
  }

  /**
   * The pause {@code pause} is over, by its timer or because a slot freed ({@link Waiters}): the
   * next round. Returns whether the slot is spoken for: this round asked a node, or it found every
   * node full again (someone took the slot first: no waiter behind it can use it either). False if
   * that pause was over already (the other way came first), or the round asked no node while some
   * node has room, one this request may not ask (a vote request whose voters answered), or it ended
   * the request: then the slot goes to the next waiter.
   */
  private boolean newRound(long pause) {
    AfterLock after = new AfterLock();
    boolean fullAgain;
    synchronized (this) {
      if (settled || !rounds.paused() || pause != pauses) {
        return false;
      }
      stopWaiting(); // woken by its timer, it waits no more; by a slot, it is out already
      rounds.next(attempts.answeredNodes());
      decide(after, RequestView.Trigger.NEW_ROUND);
      fullAgain = rounds.paused() && noRoomAnywhere;
    }
    act(after);
    return !after.launch.isEmpty() || fullAgain;
  }

  /** Leaves the line of waiting requests, if in it. Under the lock. */
  private void stopWaiting() {
    if (waiting != null) {
      shared.waiters().remove(waiting);
      waiting = null;
    }
  }

  /**
   * An attempt that held a task slot at its node ended (answered, or its call cancelled): the
   * oldest waiting request may use the slot. Not a failure the node sent back at once (full,
   * unreachable): it held no slot, and two requests failing on the same nodes would otherwise wake
   * each other without end instead of pausing.
   */
  private static void slotFreed(AfterLock after) {
    after.slotsFreed++;
  }

  @Override
  public void onAnswer(AttemptOnNode a, ComputeResponse response) {
    AfterLock after = new AfterLock();
    synchronized (this) {
      if (a.ended) {
        return; // cancelled by us a moment before it answered: already counted
      }
      a.answered(response.getResult(), now());
      ended(a);
      attempts.answered(a);
      stopTimeout(after, a);
      after.bookkeeping.add(() -> shared.cluster().attemptEnded(a.nodeId(), true));
      slotFreed(after);
      learnSpeed(a);
      decide(after, RequestView.Trigger.ANSWERED);
    }
    act(after);
  }

  @Override
  public void onFailure(AttemptOnNode a, Throwable t) {
    AfterLock after = new AfterLock();
    synchronized (this) {
      if (a.ended) {
        return; // we cancelled it, or it timed out: already recorded
      }
      Status status = Failures.normalize(Status.fromThrowable(t));
      failed(after, a, status, Failures.mayHaveRun(t), Failures.answeredByPeer(t));
    }
    act(after);
  }

  /**
   * The attempt's own deadline passed with no answer: it failed with DEADLINE_EXCEEDED, exactly as
   * if gRPC had said so, and its call is cancelled (which tells the node to stop the work).
   */
  @Override
  public void onTimeout(AttemptOnNode a) {
    AfterLock after = new AfterLock();
    synchronized (this) {
      if (a.ended) {
        return; // it ended in time (its timer was being called off)
      }
      a.released = true; // its load is given back as a failed attempt, not a cancelled one
      ListenableFuture<ComputeResponse> call = a.call;
      // no call yet (its launch stalled on another thread, which cancels it): nothing to hold
      // against the node, so it is no evidence
      boolean called = call != null;
      failed(after, a, Status.DEADLINE_EXCEEDED, called, !called);
      if (called) {
        after.then.add(() -> call.cancel(true));
        slotFreed(after); // the cancelled call tells the node to stop the task
      }
    }
    act(after);
  }

  /**
   * An attempt failed: evidence for the detector, then the policy decides. Under the lock.
   *
   * @param noEvidence the failure says nothing against the node (the node itself sent the error, or
   *     it was never called)
   */
  private void failed(
      AfterLock after, AttemptOnNode a, Status status, boolean mayHaveRun, boolean noEvidence) {
    String detail = AttemptOnNode.failureDetail(status, a.timeoutNanos);
    a.failed(status.getCode(), detail, mayHaveRun, now());
    ended(a);
    stopTimeout(after, a);
    after.bookkeeping.add(() -> shared.cluster().attemptEnded(a.nodeId(), false));
    boolean timeUp = context.isCancelled() || deadline.isExpired();
    if (!timeUp && Failures.isEvidenceAgainstNode(status) && !noEvidence) {
      String why = status.getCode() + " (" + detail + ")";
      after.bookkeeping.add(() -> shared.cluster().callFailed(a.nodeId(), why));
    }
    if (!timeUp && !Failures.isRetryable(status)) {
      // any node would fail the same way (INVALID_ARGUMENT, INTERNAL...): the policy decides
      // whether that ends the request; this node is not asked again either way
      rounds.failedForGood(
          a.nodeId(), status.withDescription(a.nodeId() + " failed the task: " + detail));
    }
    decide(after, RequestView.Trigger.FAILED);
  }

  /** The attempt ended: its timeout is called off (after the lock, like all acting). */
  private static void stopTimeout(AfterLock after, AttemptOnNode a) {
    if (a.timeout != null) {
      after.then.add(a.timeout::cancel);
    }
  }

  // ---- deciding, under the lock ----

  /**
   * The heart of it: time's up, or the policy's decision, or (nothing running and no node left in
   * this round) a new round after a pause, or the policy's reason to give up.
   */
  private void decide(AfterLock after, RequestView.Trigger trigger) {
    if (settled) {
      return;
    }
    // read before any look at the nodes: a slot freed after it may have found this request not
    // yet in line (see the pause below)
    long freedBefore = shared.waiters().freed();
    // looked up only if needed: an answer in hand needs no look at the cluster
    Supplier<List<Candidate>> candidates =
        Suppliers.memoize(() -> rounds.usable(shared.candidates()))::get;
    if (trigger == RequestView.Trigger.ANSWERED
        && policy.decide(view(trigger, candidates)) instanceof Decision.Answer a) {
      answer(after, a); // an answer in hand is given, even if the deadline passed meanwhile
      return;
    }
    // The deadline first: gRPC also cancels a context when its deadline passes, and that is
    // running out of time (DEADLINE_EXCEEDED), not the client giving up (CANCELLED).
    long remaining = deadline.timeRemaining(TimeUnit.NANOSECONDS);
    if (remaining <= 0) {
      fail(
          after,
          Status.DEADLINE_EXCEEDED.withDescription(
              (capped
                      ? "the coordinator's limit of "
                          + Dispatcher.MAX_REQUEST_TIME.toSeconds()
                          + " s per request passed (the client allowed "
                          + Math.round(clientAllowedNanos / 1e9)
                          + " s); "
                      : "the request's deadline passed; ")
                  + soFar()));
      return;
    }
    if (context.isCancelled()) {
      fail(
          after,
          Status.CANCELLED.withDescription(
              "the client cancelled the request after " + attempts.started() + " attempt(s)"));
      return;
    }
    Decision decision = policy.decide(view(trigger, candidates));
    if (decision instanceof Decision.Answer a) {
      answer(after, a);
      return;
    }
    if (decision instanceof Decision.Fail f) {
      fail(after, f.status());
      return;
    }
    if (decision instanceof Decision.Start s) {
      startAttempts(after, s, candidates.get(), remaining);
    }
    if (attempts.running() > 0 || rounds.paused()) {
      return; // wait for the attempts in flight, or the next round
    }
    // Nothing in flight and no node left to try in this round: pause, then a new round
    OptionalLong pause =
        rounds.pauseBeforeNextRound(candidates.get(), attempts.answeredNodes(), remaining);
    if (pause.isPresent()) {
      long thisPause = ++pauses;
      List<Candidate> withRoom = withRoom(candidates.get());
      // a node left unasked for being full: it waits for a slot, as if the node had refused it
      boolean pausedForRoom = rounds.untried(candidates.get()) > rounds.untried(withRoom);
      noRoomAnywhere = withRoom.isEmpty();
      // in line under the lock: whatever ends the request next takes it out again
      waiting = shared.waiters().waiter(startNanos, () -> newRound(thisPause));
      boolean inLine = true;
      if (pausedForRoom) {
        // a slot freed since the nodes were looked at found this request not in line: look again
        // at once rather than sleep out the pause with a slot free
        inLine = shared.waiters().addUnlessFreedSince(waiting, freedBefore);
      } else {
        shared.waiters().add(waiting); // a slot that frees ends the pause early
      }
      if (!inLine) {
        waiting = null; // its next round comes at once; the pause still counts for the next one
      }
      pausesForRoom += pausedForRoom && inLine ? 1 : 0;
      long wait = inLine ? pause.getAsLong() : 0;
      after.then.add(
          () -> {
            if (shared.scheduler().scheduleIfRunning(() -> newRound(thisPause), wait).isEmpty()) {
              stopped(); // the coordinator is shutting down
            }
          });
      return;
    }
    fail(after, policy.giveUp(view(trigger, candidates)));
  }

  private RequestView view(RequestView.Trigger trigger, Supplier<List<Candidate>> candidates) {
    return new RequestView(
        trigger,
        attempts.started(),
        attempts.running(),
        hedged,
        hedge != null && !hedge.ended,
        attempts.answers(),
        rounds.fatal(),
        Suppliers.memoize(() -> counts(candidates.get()))::get,
        () -> attempts.whyNoNode(shared.cluster().nodes(), fullNodes(candidates.get())),
        this::soFar);
  }

  /**
   * The nodes an attempt may go to now: the candidates that are not {@link Candidate#full full}. A
   * full node is left out of this round, not tried: the request waits for a slot in line ({@link
   * Waiters}) rather than sending an attempt the node would refuse.
   */
  private static List<Candidate> withRoom(List<Candidate> candidates) {
    for (Candidate c : candidates) {
      if (c.full()) {
        return candidates.stream().filter(n -> !n.full()).toList();
      }
    }
    return candidates; // the usual case: no copy
  }

  private static Set<String> fullNodes(List<Candidate> candidates) {
    return candidates.stream()
        .filter(Candidate::full)
        .map(Candidate::nodeId)
        .collect(Collectors.toSet());
  }

  /** The attempts so far, and how often the request waited for a slot, for its error. */
  private String soFar() {
    String s = attempts.soFar();
    return pausesForRoom == 0
        ? s
        : s
            + "; "
            + pausesForRoom
            + (pausesForRoom == 1 ? " time" : " times")
            + " every node left to ask was full with this coordinator's attempts, and it waited"
            + " for a slot";
  }

  private RequestView.NodeCounts counts(List<Candidate> candidates) {
    Set<String> runningOrAnswered = attempts.runningOrAnsweredNodes();
    int idle = 0;
    for (Candidate c : candidates) {
      idle += runningOrAnswered.contains(c.nodeId()) ? 0 : 1;
    }
    return new RequestView.NodeCounts(
        candidates.size(), rounds.untried(withRoom(candidates)), idle);
  }

  /** Starts the attempts the policy asked for, each on the node the picker chooses. */
  private void startAttempts(
      AfterLock after, Decision.Start start, List<Candidate> candidates, long remaining) {
    for (int i = 0; i < start.attempts(); i++) {
      Optional<Candidate> picked =
          shared.picker().pick(withRoom(candidates), rounds.triedThisRound());
      if (picked.isEmpty()) {
        return;
      }
      rounds.tried(picked.get().nodeId());
      AttemptOnNode a =
          new AttemptOnNode(
              picked.get(),
              start.kind(),
              Math.min(remaining, attemptBudgetNanos),
              now(),
              startNanos);
      attempts.add(a);
      after.launch.add(a);
      event(
          () ->
              new DispatchEvent.AttemptStarted(
                  request.getRequestId(), a.nodeId(), a.kind, a.startNanos - startNanos));
      if (start.kind() == AttemptKind.HEDGE) {
        hedged = true;
        hedge = a;
      }
    }
  }

  /** The coordinator is shutting down and cannot schedule the next round: give up now. */
  private void stopped() {
    AfterLock after = new AfterLock();
    synchronized (this) {
      stopWaiting();
      rounds.cancelPause();
      if (!settled) {
        fail(after, Status.UNAVAILABLE.withDescription("the coordinator is shutting down"));
      }
    }
    act(after);
  }

  private long now() {
    return shared.scheduler().nanoTime();
  }

  /** How long the attempt took feeds the hedge delay and the node's recent extra time. */
  private void learnSpeed(AttemptOnNode a) {
    long now = now();
    long latency = now - a.startNanos;
    shared.hedging().recordLatency(latency, expectedNanos, now);
    shared.extraTime().record(a.nodeId(), latency - expectedNanos, now);
  }

  /** Answers the client, cancelling the attempts still in flight. */
  private void answer(AfterLock after, Decision.Answer decision) {
    settled = true;
    cancelRunning(after, decision.whyOthersCancelled());
    if (!decision.outvoted().isEmpty()) {
      after.bookkeeping.add(() -> shared.cluster().votes(decision.outvoted()));
    }
    Answer.Builder a =
        Answer.newBuilder()
            .setRequestId(request.getRequestId())
            .setResult(decision.result())
            .setNodeId(decision.nodeId())
            .setHow(decision.how())
            .setCoordinatorId(shared.coordinatorId())
            .setRedundancy(policy.redundancy().toProto())
            .setCoordinatorMicros((now() - startNanos) / 1_000)
            .addAllTally(decision.tally());
    Answer answer = a.addAllAttempts(attempts.records()).build();
    event(() -> new DispatchEvent.Answered(request.getRequestId(), answer, now() - startNanos));
    after.then.add(
        () -> {
          responses.onNext(answer);
          responses.onCompleted();
        });
  }

  /** Fails the request, cancelling the attempts still in flight. */
  private void fail(AfterLock after, Status status) {
    settled = true;
    cancelRunning(after, "the request failed");
    event(
        () ->
            new DispatchEvent.Failed(
                request.getRequestId(),
                policy.redundancy(),
                status,
                attempts.records(),
                now() - startNanos));
    after.then.add(() -> responses.onError(status.asRuntimeException()));
  }

  private void cancelRunning(AfterLock after, String why) {
    if (wakeUp != null) {
      after.then.add(wakeUp::cancel);
    }
    stopWaiting(); // it ended while paused (its deadline, the client gone): no slot for it
    for (AttemptOnNode a : attempts.all()) {
      if (!a.ended) {
        a.cancelled(why, now());
        ended(a);
        stopTimeout(after, a);
        after.cancel.add(a);
        if (a.launched) {
          slotFreed(after); // the cancelled call tells the node to stop the task
          // a loser took at least this long: leaving it out would make the p95 too optimistic,
          // and a node that always loses look fast
          learnSpeed(a);
        }
      }
    }
  }

  /** The attempt has just ended: its record is final. Under the lock. */
  private void ended(AttemptOnNode a) {
    event(
        () ->
            new DispatchEvent.AttemptEnded(
                request.getRequestId(), a.record.build(), now() - startNanos));
  }

  /** Queues an event for the listeners, if there are any. Under the lock. */
  private void event(Supplier<DispatchEvent> e) {
    if (listening) {
      outbox.add(e.get());
    }
  }

  // ---- acting, outside the lock ----

  /**
   * Hands the events decided so far to the listeners, in order. One thread at a time delivers; a
   * thread that finds another delivering leaves its events to it (it takes them before it stops),
   * so no thread ever waits for a listener but the one delivering.
   */
  private void publish() {
    if (!listening) {
      return;
    }
    while (true) {
      List<DispatchEvent> batch;
      synchronized (this) {
        if (delivering || outbox.isEmpty()) {
          return;
        }
        delivering = true;
        batch = outbox;
        outbox = new ArrayList<>();
      }
      try {
        DispatchListeners.deliver(listeners, batch);
      } finally {
        synchronized (this) {
          delivering = false;
        }
      }
    }
  }

  /** Does what the decision left to do. */
  private void act(AfterLock after) {
    for (Runnable r : after.bookkeeping) {
      r.run();
    }
    publish();
    for (AttemptOnNode a : after.cancel) {
      calls.cancel(a);
    }
    for (AttemptOnNode a : after.launch) {
      calls.launch(a);
    }
    for (Runnable r : after.then) {
      r.run();
    }
    // each freed slot starts the oldest waiting request's next round, while any waits
    for (int i = 0; i < after.slotsFreed; i++) {
      if (!shared.waiters().slotFreed()) {
        break;
      }
    }
  }
}
