package ftlab.coordinator.dashboard;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import ftlab.clock.Scheduler;
import ftlab.coordinator.dispatch.DispatchEvent;
import ftlab.coordinator.dispatch.DispatchListener;
import ftlab.coordinator.membership.MembershipEvent;
import ftlab.proto.Answer;
import ftlab.proto.Attempt;
import ftlab.proto.AttemptOutcome;
import ftlab.proto.AttemptWords;
import ftlab.proto.ClusterView;
import ftlab.proto.FaultWords;
import ftlab.proto.HowAnswered;
import ftlab.proto.NodeView;
import ftlab.proto.RedundancyWords;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What the dashboard's pages are told, as it happens: the coordinator's view of the cluster, its
 * events (transitions with their reasons, faults applied and cleared, mode switches, runs of
 * failovers, hedges and outvoted replicas), its answers with their provenance, and each second's
 * figures for the charts ({@link RequestSeconds}). Events are gathered as they come and sent to
 * every open page in one batch every {@link #FLUSH_MS} ms, so that 200 answers per second cost a
 * page 4 messages per second; the coordinator's network thread only adds an answer to a list and
 * counts it in its second. A page that cannot keep up is dropped (it reconnects).
 */
public final class DashboardFeed implements DispatchListener, AutoCloseable {
  static final long FLUSH_MS = 250;

  /** Answers per batch, at most: the first ones of the batch are listed, the rest counted. */
  static final int ANSWERS_PER_BATCH = 40;

  /** What a page that opens now is shown at once. */
  static final int RECENT_EVENTS = 100;

  static final int RECENT_ANSWERS = 30;

  /** Open pages, at most; one more is refused (each holds a thread of the HTTP server). */
  static final int MAX_PAGES = 16;

  private static final JsonFormat.Printer PROTO_JSON =
      JsonFormat.printer().omittingInsignificantWhitespace();

  private final Supplier<ClusterView> view;
  private final LongSupplier wallClockMillis;
  private final Scheduler timer;
  private volatile boolean stopped;
  private final Object lock = new Object();
  private final List<Item> pendingEvents = new ArrayList<>();
  private final List<Item> pendingAnswers = new ArrayList<>();

  /** Numbers every event and answer, so that a page is never sent what its first message had. */
  private long sequence;

  /** An event or answer, numbered in the order it came. */
  private record Item(long seq, JsonObject json) {}

  private long answersDropped;
  private final Deque<JsonObject> recentEvents = new ArrayDeque<>();
  private final Deque<JsonObject> recentAnswers = new ArrayDeque<>();
  private final RequestSeconds seconds = new RequestSeconds();

  /** Each node's faults as its heartbeats last reported them; read and written by flush only. */
  private final Map<String, String> lastFaults = new HashMap<>();

  private final List<Page> pages = new CopyOnWriteArrayList<>();

  /** Put in a page's queue when it closes, to wake the thread that writes to it. */
  private static final String CLOSED = new String("closed");

  /** One open page: the messages waiting to be written to it. */
  public final class Page implements AutoCloseable {
    private final BlockingQueue<String> messages = new ArrayBlockingQueue<>(64);
    private volatile boolean closed;

    /** The first item this page has not been shown. */
    private long from;

    /** The first second (its start, wall clock) this page has not been shown. */
    private long secondsFrom = Long.MIN_VALUE;

    /** The next message, or empty if none came within {@code millis} (or the page was dropped). */
    public Optional<String> next(long millis) throws InterruptedException {
      if (closed) {
        return Optional.empty();
      }
      String m = messages.poll(millis, TimeUnit.MILLISECONDS);
      return m == null || m == CLOSED ? Optional.empty() : Optional.of(m);
    }

    /** Whether the feed dropped this page (too slow to read) or the page closed. */
    public boolean closed() {
      return closed;
    }

    @Override
    public void close() {
      closed = true;
      synchronized (lock) {
        pages.remove(this);
      }
      messages.clear();
      messages.offer(CLOSED); // wakes the thread waiting for the next message
    }
  }

  /**
   * @param view the coordinator's view of the cluster now (what {@code ftlab status} shows)
   * @param wallClockMillis the time stamped on events, for the page's time axis
   * @param timer sends a batch every {@link #FLUSH_MS} ms (a thread of the feed's own in
   *     production, a fake clock in tests)
   */
  public DashboardFeed(Supplier<ClusterView> view, LongSupplier wallClockMillis, Scheduler timer) {
    this.view = view;
    this.wallClockMillis = wallClockMillis;
    this.timer = timer;
    timer.scheduleIfRunning(this::flushSafely, TimeUnit.MILLISECONDS.toNanos(FLUSH_MS));
  }

  /**
   * Opens a page: its first message is the whole picture (the view, the recent events and answers),
   * then one batch every {@link #FLUSH_MS} ms.
   *
   * @return empty if {@link #MAX_PAGES} are open already
   */
  public Optional<Page> open() {
    Page page = new Page();
    // the view is built outside the lock: it takes the cluster's lock, and the network thread
    // waits for this one to add an event
    JsonElement picture = json(view.get());
    synchronized (lock) {
      if (pages.size() >= MAX_PAGES) {
        return Optional.empty();
      }
      List<RequestSeconds.Second> kept = seconds.kept();
      JsonObject first =
          message(picture, new ArrayList<>(recentEvents), new ArrayList<>(recentAnswers), 0, kept);
      if (!kept.isEmpty()) {
        // a second closed by a request is handed to the pages at the next batch: not twice here
        page.secondsFrom = kept.get(kept.size() - 1).startMillis() + 1;
      }
      first.addProperty("first", true);
      // queued before the page joins: no batch can overtake it
      page.messages.add(first.toString());
      page.from = sequence; // what is pending now is in the picture already
      pages.add(page);
    }
    return Optional.of(page);
  }

  /** The cluster view, as JSON: what {@code /api/view} answers. */
  public String viewJson() {
    return json(view.get()).toString();
  }

  /** A membership event, for the events timeline. */
  public void onMembership(MembershipEvent event) {
    if (event instanceof MembershipEvent.Refused r && !r.report()) {
      return; // counted, and told once in a while: a flood must not push everything else out
    }
    JsonObject e = new JsonObject();
    e.addProperty("at", wallClockMillis.getAsLong());
    e.addProperty("text", event.describe());
    if (event instanceof MembershipEvent.Transition t) {
      e.addProperty("kind", "transition");
      e.addProperty("node", t.nodeId());
      e.addProperty("from", t.from() == null ? "NONE" : t.from().name());
      e.addProperty("to", t.to().name());
      e.addProperty("reason", t.reason());
    } else if (event instanceof MembershipEvent.Restarted r) {
      e.addProperty("kind", "restarted");
      e.addProperty("node", r.nodeId());
    } else if (event instanceof MembershipEvent.Refused r) {
      e.addProperty("kind", "refused");
      e.addProperty("node", r.nodeId());
    } else if (event instanceof MembershipEvent.Forgotten f) {
      e.addProperty("kind", "forgotten");
      e.addProperty("node", f.nodeId());
    } else {
      e.addProperty("kind", "detector-stalled");
    }
    event(e);
  }

  /** Something done from the dashboard to a node (a fault, a heal, a readmit), for the timeline. */
  public void control(String nodeId, String action, String text) {
    JsonObject e = new JsonObject();
    e.addProperty("at", wallClockMillis.getAsLong());
    e.addProperty("kind", "control");
    e.addProperty("node", nodeId);
    e.addProperty("action", action);
    e.addProperty("text", text);
    event(e);
  }

  private void event(JsonObject e) {
    synchronized (lock) {
      eventLocked(e);
    }
  }

  private void eventLocked(JsonObject e) {
    pendingEvents.add(new Item(sequence++, e));
    recentEvents.addLast(e);
    if (recentEvents.size() > RECENT_EVENTS) {
      recentEvents.removeFirst();
    }
  }

  /** The charts' episodes (failovers, hedges, outvoted replicas began or stopped) as events. */
  private void episodesLocked(List<RequestSeconds.Episode> episodes) {
    for (RequestSeconds.Episode ep : episodes) {
      JsonObject e = new JsonObject();
      e.addProperty("at", ep.atMillis());
      e.addProperty("kind", ep.kind());
      e.addProperty("text", ep.text());
      eventLocked(e);
    }
  }

  @Override
  public void on(DispatchEvent event) {
    if (event instanceof DispatchEvent.Answered a) {
      Answer answer = a.answer();
      List<String> outvoted = new ArrayList<>();
      for (int i = 1; i < answer.getTallyCount(); i++) {
        outvoted.addAll(answer.getTally(i).getNodeIdsList());
      }
      ended(
          true,
          a.atNanos(),
          answer.getAttemptsList(),
          answer.getHow() == HowAnswered.HOW_HEDGE,
          outvoted);
      answer(answered(a, outvoted));
    } else if (event instanceof DispatchEvent.Failed f) {
      ended(false, f.atNanos(), f.attempts(), false, List.of());
      JsonObject j = new JsonObject();
      j.addProperty("at", wallClockMillis.getAsLong());
      j.addProperty("request", f.requestId());
      j.addProperty("ok", false);
      j.addProperty("mode", f.redundancy().describe());
      j.addProperty("code", f.status().getCode().name());
      j.addProperty("why", f.status().getDescription());
      j.addProperty("ms", f.atNanos() / 1e6);
      j.add("attempts", attempts(f.attempts()));
      answer(j);
    }
  }

  /**
   * @param outvoted the nodes whose results lost the vote (the tally's ballots after the first)
   */
  private JsonObject answered(DispatchEvent.Answered a, List<String> outvoted) {
    Answer answer = a.answer();
    JsonObject j = new JsonObject();
    j.addProperty("at", wallClockMillis.getAsLong());
    j.addProperty("request", a.requestId());
    j.addProperty("ok", true);
    j.addProperty("node", answer.getNodeId());
    String how = AttemptWords.how(answer.getHow());
    if (answer.getHow() == HowAnswered.HOW_VOTE && answer.getTallyCount() > 0) {
      int replicas = answer.getRedundancy().getReplicas();
      how += " " + answer.getTally(0).getNodeIdsCount() + "/" + replicas;
    }
    j.addProperty("how", how);
    j.addProperty("mode", RedundancyWords.describe(answer.getRedundancy()));
    j.addProperty("outvoted", answer.getTallyCount() > 1);
    JsonArray outvotedNodes = new JsonArray();
    outvoted.forEach(outvotedNodes::add);
    j.add("outvotedNodes", outvotedNodes);
    j.addProperty("ms", a.atNanos() / 1e6);
    j.add("attempts", attempts(answer.getAttemptsList()));
    return j;
  }

  /** Counts a request that ended in its second, for the charts. */
  private void ended(
      boolean answered,
      long requestNanos,
      List<Attempt> attempts,
      boolean hedgeWon,
      List<String> outvoted) {
    int retries = 0;
    int hedges = 0;
    List<String> failed = new ArrayList<>();
    for (Attempt at : attempts) {
      switch (at.getKind()) {
        case RETRY -> retries++;
        case HEDGE -> hedges++;
        default -> {}
      }
      if (at.getOutcome() == AttemptOutcome.FAILED) {
        failed.add(at.getNodeId() + " " + at.getFailureCode());
      }
    }
    RequestSeconds.Ended e =
        new RequestSeconds.Ended(
            answered, requestNanos, retries, hedges, hedgeWon, failed, outvoted);
    List<RequestSeconds.Episode> episodes = new ArrayList<>();
    long now = wallClockMillis.getAsLong();
    synchronized (lock) {
      seconds.record(now, e, episodes);
      episodesLocked(episodes);
    }
  }

  private static JsonArray attempts(List<Attempt> attempts) {
    JsonArray out = new JsonArray();
    for (Attempt at : attempts) {
      JsonObject o = new JsonObject();
      o.addProperty("node", at.getNodeId());
      o.addProperty("kind", AttemptWords.kind(at.getKind()));
      o.addProperty("outcome", AttemptWords.outcome(at));
      o.addProperty("startMs", at.getStartedMicros() / 1e3);
      o.addProperty("ms", at.getLatencyMicros() / 1e3);
      if (!at.getDetail().isEmpty()) {
        o.addProperty("detail", at.getDetail());
      }
      out.add(o);
    }
    return out;
  }

  private void answer(JsonObject j) {
    synchronized (lock) {
      long seq = sequence++;
      if (pendingAnswers.size() < ANSWERS_PER_BATCH) {
        pendingAnswers.add(new Item(seq, j));
      } else {
        answersDropped++;
      }
      recentAnswers.addLast(j);
      if (recentAnswers.size() > RECENT_ANSWERS) {
        recentAnswers.removeFirst();
      }
    }
  }

  private void flushSafely() {
    try {
      flush();
    } catch (RuntimeException e) {
      // a bug here must not stop the feed
      org.slf4j.LoggerFactory.getLogger("dashboard").error("dashboard feed failed", e);
    }
    if (!stopped) {
      timer.scheduleIfRunning(this::flushSafely, TimeUnit.MILLISECONDS.toNanos(FLUSH_MS));
    }
  }

  /** Sends what happened since the last batch to every open page. */
  void flush() {
    ClusterView now = view.get();
    modeSwitches(now);
    faultChanges(now);
    JsonElement viewJson = json(now);
    List<Item> events;
    List<Item> answers;
    long dropped;
    List<Page> to;
    List<RequestSeconds.Second> closed;
    synchronized (lock) {
      RequestSeconds.Closed c = seconds.closeBefore(wallClockMillis.getAsLong());
      episodesLocked(c.episodes());
      closed = c.seconds();
      events = new ArrayList<>(pendingEvents);
      answers = new ArrayList<>(pendingAnswers);
      dropped = answersDropped;
      pendingEvents.clear();
      pendingAnswers.clear();
      answersDropped = 0;
      to = new ArrayList<>(pages);
    }
    if (to.isEmpty()) {
      return;
    }
    String shared = null;
    for (Page p : to) {
      String message;
      if (events.stream().allMatch(i -> i.seq() >= p.from)
          && answers.stream().allMatch(i -> i.seq() >= p.from)
          && closed.stream().allMatch(s -> s.startMillis() >= p.secondsFrom)) {
        if (shared == null) {
          shared = message(viewJson, json(events, 0), json(answers, 0), dropped, closed).toString();
        }
        message = shared;
      } else { // opened after some of these came: its first message had them
        List<RequestSeconds.Second> newSeconds =
            closed.stream().filter(s -> s.startMillis() >= p.secondsFrom).toList();
        message =
            message(viewJson, json(events, p.from), json(answers, p.from), 0, newSeconds)
                .toString();
      }
      if (!p.messages.offer(message)) {
        p.close(); // 64 batches (16 s) unread: the page is gone or stuck; it reconnects
      }
    }
  }

  /** The mode last seen; read and written by {@link #flush} only, one at a time. */
  private String lastMode;

  /**
   * A mode switch, whoever made it ({@code ftlab mode}, the page's own switch), becomes an event:
   * the coordinator's mode is read at every batch and compared with the last one seen.
   */
  private void modeSwitches(ClusterView now) {
    String mode = RedundancyWords.describe(now.getRedundancy());
    if (lastMode != null && !mode.equals(lastMode)) {
      JsonObject e = new JsonObject();
      e.addProperty("at", wallClockMillis.getAsLong());
      e.addProperty("kind", "mode");
      e.addProperty("text", now.getCoordinatorId() + " mode: " + mode + " (was " + lastMode + ")");
      event(e);
    }
    lastMode = mode;
  }

  /**
   * A node's faults, as its heartbeats report them, applied or cleared (by the page, by {@code
   * ftlab chaos}, by a scenario), become an event: the charts shade the window between the two.
   */
  private void faultChanges(ClusterView now) {
    Map<String, String> seen = new HashMap<>();
    for (NodeView n : now.getNodesList()) {
      String faults = FaultWords.describeOr(n.getFaults(), "");
      seen.put(n.getNodeId(), faults);
      String before = lastFaults.getOrDefault(n.getNodeId(), "");
      if (faults.equals(before)) {
        continue;
      }
      JsonObject e = new JsonObject();
      e.addProperty("at", wallClockMillis.getAsLong());
      e.addProperty("kind", "fault");
      e.addProperty("node", n.getNodeId());
      e.addProperty("faults", faults);
      e.addProperty(
          "text",
          faults.isEmpty()
              ? n.getNodeId() + " reports no faults any more (it had: " + before + ")"
              : n.getNodeId() + " reports faults: " + faults);
      event(e);
    }
    lastFaults.clear();
    lastFaults.putAll(seen);
  }

  private static List<JsonObject> json(List<Item> items, long from) {
    List<JsonObject> out = new ArrayList<>();
    for (Item i : items) {
      if (i.seq() >= from) {
        out.add(i.json());
      }
    }
    return out;
  }

  private JsonObject message(
      JsonElement view,
      List<JsonObject> events,
      List<JsonObject> answers,
      long dropped,
      List<RequestSeconds.Second> closedSeconds) {
    JsonObject m = new JsonObject();
    m.addProperty("at", wallClockMillis.getAsLong());
    m.add("view", view);
    JsonArray e = new JsonArray();
    events.forEach(e::add);
    m.add("events", e);
    JsonArray a = new JsonArray();
    answers.forEach(a::add);
    m.add("answers", a);
    m.addProperty("answersNotShown", dropped);
    JsonArray s = new JsonArray();
    for (RequestSeconds.Second sec : closedSeconds) {
      s.add(second(sec));
    }
    m.add("seconds", s);
    return m;
  }

  private static JsonObject second(RequestSeconds.Second s) {
    JsonObject o = new JsonObject();
    o.addProperty("t", s.startMillis());
    o.addProperty("answered", s.answered());
    o.addProperty("failed", s.failed());
    if (!Double.isNaN(s.p50Ms())) {
      o.addProperty("p50", s.p50Ms());
      o.addProperty("p99", s.p99Ms());
    }
    o.addProperty("retries", s.retries());
    o.addProperty("hedges", s.hedges());
    o.addProperty("hedgesWon", s.hedgesWon());
    o.addProperty("outvoted", s.outvoted());
    return o;
  }

  private static JsonElement json(MessageOrBuilder proto) {
    try {
      return JsonParser.parseString(PROTO_JSON.print(proto));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + proto.getClass().getSimpleName(), e);
    }
  }

  @Override
  public void close() {
    stopped = true;
    for (Page p : pages) {
      p.close();
    }
  }
}
