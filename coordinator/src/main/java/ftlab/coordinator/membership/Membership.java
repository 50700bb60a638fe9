package ftlab.coordinator.membership;

import ftlab.proto.Faults;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The membership table and its failure detector: which nodes exist and what state each is in.
 *
 * <p>This is a pure state machine. It has no threads, no clock and no network: every method takes
 * {@code nowNanos} (from {@link System#nanoTime()} in production, from a fake clock in tests) and
 * returns the events it caused, for the caller to log or act on. It is not thread-safe; the
 * coordinator calls it under one lock. Times are compared by subtraction ({@code now - then}), the
 * only correct way with {@code nanoTime}.
 *
 * <p>Evidence that moves a node, strongest first:
 *
 * <ol>
 *   <li>a Leave message: LEFT at once, not a failure;
 *   <li>a failed call (connection refused, timed out): SUSPECT at once, unless the node was
 *       (re)admitted less than {@link DetectorConfig#reconnectGraceNanos()} ago;
 *   <li>silence: SUSPECT, then DEAD, by the thresholds in {@link DetectorConfig};
 *   <li>a heartbeat: ALIVE again (from LEFT if the node restarted, i.e. a new incarnation, or if
 *       the same process beats on well after its goodbye).
 * </ol>
 *
 * <p>Anyone who can reach the port can send a heartbeat (in plaintext mode there are no
 * identities), so the table is guarded against beats that would do lasting harm ({@link
 * MembershipLimits}): an incarnation far ahead of this coordinator's clock is not believed; a
 * process that claims an id while the process holding it still beats is refused, whatever its
 * incarnation (the first keeps the id); a goodbye followed by beats for more than {@link
 * #GOODBYE_GRACE} was not the node's own; the table has a size limit, and DEAD and LEFT members are
 * forgotten after a while.
 *
 * <p>Apart from failures, there is the quarantine of nodes that lie (vote mode): a node outvoted
 * too often ({@link QuarantineConfig}) is QUARANTINED and gets no work until an operator readmits
 * it or the quarantine expires; heartbeats, silence, goodbyes and restarts do not end it.
 */
public final class Membership {
  private final DetectorConfig config;
  private final QuarantineConfig quarantine;
  private final MembershipLimits limits;
  private final Map<String, Member> members = new LinkedHashMap<>();

  /**
   * How long beats of the same process may go on after its goodbye. A node says goodbye before it
   * stops beating (a goodbye has a 1 s deadline), so its last beats may arrive a moment later;
   * beats that go on longer come from a node that never said goodbye: one forged Leave must not
   * take a working node out for good.
   */
  static final Duration GOODBYE_GRACE = Duration.ofSeconds(2);

  /**
   * How far a beat's sequence may run ahead of the last one taken, beyond one per {@link
   * #FASTEST_INTERVAL} since then: 10 for beats lost or reordered on the way.
   */
  static final long SEQUENCE_SLACK = 10;

  /**
   * The shortest heartbeat interval a node may use as far as sequence numbers go: a node counts one
   * beat per interval, and its interval may be set shorter than this coordinator's.
   */
  static final Duration FASTEST_INTERVAL = Duration.ofMillis(10);

  /** How often at most each kind of refusal is reported (the others are counted). */
  static final Duration REFUSAL_REPORT_INTERVAL = Duration.ofSeconds(10);

  private final Map<MembershipEvent.Refusal, Long> lastReported =
      new EnumMap<>(MembershipEvent.Refusal.class);
  private final Map<MembershipEvent.Refusal, Long> unreported =
      new EnumMap<>(MembershipEvent.Refusal.class);

  /** When {@link #tick} last ran; used to notice that the coordinator itself was stalled. */
  private long lastTickNanos;

  private boolean ticked;

  /** When {@link #tick} last found that the detector had not run for a long time. */
  private long stallSeenNanos;

  private boolean stallSeen;

  /** How long the stall {@link #tick} last found lasted. */
  private long stallMillis;

  /**
   * For this long after a stall, the order in which beats are read says nothing about the order in
   * which they were sent: a paused coordinator reads what piled up in its sockets, from every
   * connection, in no useful order. Beats of an older process, and beats after a goodbye, are then
   * taken as late rather than as evidence of a second process or of a forged goodbye.
   */
  static final Duration STALL_SETTLE = Duration.ofSeconds(2);

  public Membership(DetectorConfig config) {
    this(config, QuarantineConfig.DEFAULT);
  }

  public Membership(DetectorConfig config, QuarantineConfig quarantine) {
    this(config, quarantine, MembershipLimits.DEFAULT);
  }

  public Membership(DetectorConfig config, QuarantineConfig quarantine, MembershipLimits limits) {
    this.config = config;
    this.quarantine = quarantine;
    this.limits = limits;
  }

  public MembershipLimits limits() {
    return limits;
  }

  public DetectorConfig config() {
    return config;
  }

  /** A node's state record. Mutable, and only ever touched under the caller's lock. */
  private static final class Member {
    final String nodeId;
    String address;
    long incarnation;
    long lastSequence;
    long lastHeardNanos;
    NodeState state;
    String reason;
    long sinceNanos;

    /** When this process was last (re)admitted: its join, its restart, or its return to ALIVE. */
    long welcomedNanos;

    int inFlight;
    int capacity;
    Faults faults = Faults.getDefaultInstance();

    /** Its most recent votes, oldest first: true where the majority overruled it. */
    final ArrayDeque<Boolean> votes = new ArrayDeque<>();

    /** The last other process that claimed the id and did not get it (yet). */
    Process rival;

    /** When a beat was last taken; unlike lastHeardNanos, not restarted after a stall. */
    long lastBeatNanos;

    /** The last beat numbered at or below lastSequence after a silence (see numberedAgain). */
    Process lowBeats;

    /**
     * Its certificate is revoked: its beats are refused before they get here, and one that got past
     * that check a moment before the revocation is dropped here.
     */
    boolean revoked;

    /** The revocation was undone while it was LEFT for it: its next beat makes it ALIVE. */
    boolean backOnNextBeat;

    /** The revocation moved it to LEFT (it had not said goodbye). */
    boolean leftForRevocation;

    Member(String nodeId) {
      this.nodeId = nodeId;
    }
  }

  /** A process that claimed a node id it does not hold: its incarnation, last beat, and when. */
  private record Process(long incarnation, long lastSequence, long heardNanos) {
    static Process of(Heartbeat hb, long nowNanos) {
      return new Process(hb.incarnation(), hb.sequence(), nowNanos);
    }
  }

  /**
   * A heartbeat arrived. Joins an unknown node, refreshes a known one, brings a SUSPECT or DEAD
   * node back, and ignores beats that are stale: from an older incarnation (a late beat of a
   * process that has since restarted), with a sequence number already seen (reordered), or from a
   * process that has just said goodbye. Refuses ({@link MembershipEvent.Refused}) a claim whose
   * incarnation is from the future, a beat from a process whose id another live process holds (or
   * the holder's own incarnation from another address), a beat numbered far ahead of the last, and
   * a new id when the table is full.
   *
   * @param wallMillis this coordinator's wall clock ({@link System#currentTimeMillis()}): a node's
   *     incarnation is its start time on its own wall clock
   */
  public List<MembershipEvent> onHeartbeat(Heartbeat hb, long nowNanos, long wallMillis) {
    Member m = members.get(hb.nodeId());
    if (m != null && m.revoked) {
      return List.of(); // a beat that passed the revocation check just before the revocation
    }
    if (m == null || hb.incarnation() != m.incarnation) {
      // a process not seen before claims the id: its incarnation must be a believable start time
      // (checked only then: a clock that steps back later must not refuse a member it accepted)
      long ahead = hb.incarnation() - wallMillis;
      if (ahead > limits.incarnationLeeway().toMillis()) {
        return List.of(
            refuse(
                hb,
                MembershipEvent.Refusal.FUTURE_INCARNATION,
                "its incarnation "
                    + hb.incarnation()
                    + " (a start time in ms) is "
                    + ahead / 1000
                    + " s ahead of this coordinator's clock, more than the "
                    + limits.incarnationLeeway().toSeconds()
                    + " s allowed: not believed (are the machines' clocks in sync?)",
                false,
                nowNanos));
      }
    }
    if (m == null) {
      return join(hb, nowNanos);
    }
    if (hb.incarnation() != m.incarnation
        || (!hb.address().equals(m.address)
            && (holderBeats(m, nowNanos) || undecided(m, nowNanos)))) {
      // another process; or the same incarnation (it is public: ftlab status shows it) at
      // another address while the holder beats: a process does not move while it runs
      return otherProcess(m, hb, nowNanos);
    }
    String renumbered = null;
    if (hb.sequence() <= m.lastSequence) {
      if (!numberedAgain(m, hb, nowNanos)) {
        return List.of(); // reordered or duplicated
      }
      renumbered =
          "its beats count from #"
              + hb.sequence()
              + " again, below #"
              + m.lastSequence
              + " seen before (a forged or mistaken beat numbered ahead); ";
    }
    long elapsed = nowNanos - m.lastBeatNanos;
    long plausible =
        m.lastSequence + SEQUENCE_SLACK + elapsed / FASTEST_INTERVAL.toNanos(); // no overflow:
    if (renumbered == null && plausible > 0 && hb.sequence() > plausible) { // a forger's MAX
      // a node counts one beat per interval: one numbered far ahead would make every real beat
      // after it look old, and be ignored (until numberedAgain() notices)
      return List.of(
          refuse(
              hb,
              MembershipEvent.Refusal.SEQUENCE_JUMP,
              "its sequence number "
                  + hb.sequence()
                  + " is far ahead of the beats its process could have sent since its last, "
                  + millis(elapsed)
                  + " ms ago: not believed",
              false,
              nowNanos));
    }
    if (m.state == NodeState.LEFT && m.backOnNextBeat) {
      accept(m, hb, nowNanos);
      return List.of(
          move(
              m,
              NodeState.ALIVE,
              "heartbeat #" + hb.sequence() + " arrived: its certificate is no longer revoked",
              nowNanos));
    }
    if (m.state == NodeState.LEFT) {
      if (nowNanos - m.sinceNanos <= GOODBYE_GRACE.toNanos() || settlingAfterStall(nowNanos)) {
        m.lastSequence = hb.sequence(); // seen, but it says nothing: sent while leaving
        return List.of();
      }
      long after = nowNanos - m.sinceNanos;
      accept(m, hb, nowNanos);
      return List.of(
          move(
              m,
              NodeState.ALIVE,
              "heartbeat #"
                  + hb.sequence()
                  + " of the same process arrived "
                  + millis(after)
                  + " ms after its goodbye (a leaving node stops beating within "
                  + GOODBYE_GRACE.toMillis()
                  + " ms): the goodbye was not its own",
              nowNanos));
    }
    long silence = nowNanos - m.lastHeardNanos;
    accept(m, hb, nowNanos);
    if (m.state == NodeState.SUSPECT || m.state == NodeState.DEAD) {
      return List.of(
          move(
              m,
              NodeState.ALIVE,
              (renumbered == null ? "" : renumbered)
                  + "heartbeat #"
                  + hb.sequence()
                  + " arrived after "
                  + millis(silence)
                  + " ms of silence",
              nowNanos));
    }
    return List.of();
  }

  /** A heartbeat from an id not in the table: it joins, if there is room. */
  private List<MembershipEvent> join(Heartbeat hb, long nowNanos) {
    List<MembershipEvent> events = new ArrayList<>(2);
    if (members.size() >= limits.maxNodes()) {
      Member gone = longestGone(nowNanos);
      if (gone == null) {
        return List.of(
            refuse(
                hb,
                MembershipEvent.Refusal.TABLE_FULL,
                "this coordinator already tracks "
                    + members.size()
                    + " nodes, its limit (--max-nodes), none of them DEAD or LEFT for more than "
                    + GOODBYE_GRACE.toSeconds()
                    + " s: a new node id is refused until one is",
                false,
                nowNanos));
      }
      members.remove(gone.nodeId);
      events.add(
          new MembershipEvent.Forgotten(
              gone.nodeId,
              gone.address,
              gone.state,
              "to make room for "
                  + hb.nodeId()
                  + ": "
                  + limits.maxNodes()
                  + " nodes is the limit (--max-nodes), and it was "
                  + gone.state
                  + " for "
                  + millis(nowNanos - gone.sinceNanos) / 1000
                  + " s, the longest"));
    }
    Member m = new Member(hb.nodeId());
    members.put(hb.nodeId(), m);
    accept(m, hb, nowNanos);
    m.state = NodeState.ALIVE;
    m.reason = "first heartbeat (incarnation " + hb.incarnation() + ", " + hb.address() + ")";
    m.sinceNanos = nowNanos;
    m.welcomedNanos = nowNanos;
    events.add(new MembershipEvent.Transition(m.nodeId, null, NodeState.ALIVE, m.reason));
    return events;
  }

  /**
   * The member DEAD or LEFT for the longest time, at least {@link #GOODBYE_GRACE} (a node just
   * gone, or one a forged goodbye made LEFT, may be back in a moment), or null if there is none.
   */
  private Member longestGone(long nowNanos) {
    Member gone = null;
    for (Member m : members.values()) {
      if ((m.state == NodeState.DEAD || m.state == NodeState.LEFT)
          && nowNanos - m.sinceNanos > GOODBYE_GRACE.toNanos()
          && (gone == null || m.sinceNanos - gone.sinceNanos < 0)) {
        gone = m;
      }
    }
    return gone;
  }

  /**
   * Whether a beat numbered at or below the last one seen is the process counting from a lower
   * number again, rather than a late or repeated beat: no beat numbered higher was taken for longer
   * than the suspect threshold, yet beats numbered lower keep coming at a live pace (a second one,
   * numbered higher than the first, at least half an interval later). That is a live process whose
   * numbering a forged or mistaken beat got ahead of; without this, its beats would be ignored
   * until it restarted.
   */
  private boolean numberedAgain(Member m, Heartbeat hb, long nowNanos) {
    if (nowNanos - m.lastBeatNanos <= config.suspectAfterNanos() || settlingAfterStall(nowNanos)) {
      return false;
    }
    Process seen = m.lowBeats;
    boolean livePace =
        seen != null
            && hb.sequence() > seen.lastSequence()
            && nowNanos - seen.heardNanos() >= config.intervalNanos() / 2;
    if (livePace) {
      m.lowBeats = null;
      return true;
    }
    if (seen == null || hb.sequence() > seen.lastSequence()) {
      m.lowBeats = Process.of(hb, nowNanos);
    }
    return false;
  }

  /** Whether the process holding the id beats: heard within the suspect threshold, not gone. */
  private boolean holderBeats(Member m, long nowNanos) {
    return m.state != NodeState.DEAD
        && m.state != NodeState.LEFT
        && nowNanos - m.lastHeardNanos <= config.suspectAfterNanos();
  }

  /**
   * Whether this coordinator cannot tell if the holder of the id beats: it is not DEAD or LEFT, and
   * this coordinator is settling after a stall of its own.
   */
  private boolean undecided(Member m, long nowNanos) {
    return m.state != NodeState.DEAD && m.state != NodeState.LEFT && settlingAfterStall(nowNanos);
  }

  /**
   * A beat from another process than the one that holds the id (another incarnation, or the
   * holder's incarnation from another address while the holder beats). While the holder beats
   * (heard within the suspect threshold, and not DEAD or LEFT), the id is its own: the other
   * process is refused, whether newer (a second node started with the same id, or a forged beat) or
   * older (a frozen process that woke up after a successor took over). Otherwise a newer
   * incarnation takes the id over at once: that is a restart. An older one takes it back only from
   * a holder that is DEAD or LEFT, and only when it beats at a live pace (a second, newer beat at
   * least half an interval after the first): beats that piled up in a socket come in a burst. While
   * this coordinator settles after a stall of its own it cannot tell whether the holder beats: a
   * newcomer is refused with a sentence that says so, and an older process is ignored.
   */
  private List<MembershipEvent> otherProcess(Member m, Heartbeat hb, long nowNanos) {
    if (undecided(m, nowNanos)) {
      // after a stall of this coordinator the holder's silence says nothing (its beats may still
      // be unread, or its silence clock was restarted): a newcomer can be neither let in nor told
      // that the holder beats; an older process's beats are taken as late ones that piled up
      if (hb.incarnation() < m.incarnation) {
        return List.of();
      }
      // not counted as an id conflict: a real restart read now gets in once this settles
      return List.of(
          refuse(
              hb,
              MembershipEvent.Refusal.ID_TAKEN,
              "the id "
                  + m.nodeId
                  + " is held by another process (incarnation "
                  + m.incarnation
                  + " at "
                  + m.address
                  + ") and this coordinator cannot tell yet whether it still beats: "
                  + stallSentence(nowNanos),
              false,
              nowNanos));
    }
    if (holderBeats(m, nowNanos)) {
      return List.of(
          refuseClaim(
              m,
              hb,
              "the id "
                  + m.nodeId
                  + " is held by another process that still beats (incarnation "
                  + m.incarnation
                  + " at "
                  + m.address
                  + ", heard "
                  + millis(nowNanos - m.lastHeardNanos)
                  + " ms ago): give each node its own id",
              nowNanos));
    }
    long old = m.incarnation;
    if (hb.incarnation() > old) {
      m.rival = null;
      accept(m, hb, nowNanos);
      m.welcomedNanos = nowNanos;
      if (m.state == NodeState.ALIVE || m.state == NodeState.QUARANTINED) {
        // ALIVE: it came back before anyone noticed; QUARANTINED: a restart does not end it
        return List.of(new MembershipEvent.Restarted(m.nodeId, old, hb.incarnation()));
      }
      return List.of(
          move(
              m,
              NodeState.ALIVE,
              "restarted (incarnation " + old + " -> " + hb.incarnation() + ")",
              nowNanos,
              true));
    }
    // an older process, and the holder is silent
    Process seen = m.rival;
    boolean livePace =
        seen != null
            && seen.incarnation() == hb.incarnation()
            && hb.sequence() > seen.lastSequence()
            && nowNanos - seen.heardNanos() >= config.intervalNanos() / 2;
    if (!(m.state == NodeState.DEAD || m.state == NodeState.LEFT)
        || settlingAfterStall(nowNanos)
        || !livePace) {
      if (seen == null
          || seen.incarnation() != hb.incarnation()
          || hb.sequence() > seen.lastSequence()) {
        m.rival = Process.of(hb, nowNanos);
      }
      return List.of(); // a late beat of a replaced process, until it shows it lives
    }
    NodeState was = m.state;
    accept(m, hb, nowNanos);
    m.rival = null;
    return List.of(
        move(
            m,
            NodeState.ALIVE,
            "incarnation "
                + hb.incarnation()
                + " beats again while the newer incarnation "
                + old
                + " is "
                + was
                + ": the id is back with the process that beats",
            nowNanos,
            true));
  }

  /**
   * Whether this coordinator is reading beats that piled up while it was stalled: the detector has
   * not run for longer than the suspect threshold (the stall is not over, or its first tick has not
   * come yet), or it found a stall less than {@link #STALL_SETTLE} ago.
   */
  private boolean settlingAfterStall(long nowNanos) {
    return (ticked && nowNanos - lastTickNanos > config.suspectAfterNanos())
        || (stallSeen && nowNanos - stallSeenNanos < STALL_SETTLE.toNanos());
  }

  /** Refuses another process's claim to a held id; a claimant not refused before is a conflict. */
  private MembershipEvent.Refused refuseClaim(
      Member m, Heartbeat hb, String reason, long nowNanos) {
    boolean newClaim = m.rival == null || m.rival.incarnation() != hb.incarnation();
    m.rival = Process.of(hb, nowNanos);
    return refuse(hb, MembershipEvent.Refusal.ID_TAKEN, reason, newClaim, nowNanos);
  }

  /** How this coordinator's own stall stands, for a sentence: "it was stalled for ...". */
  private String stallSentence(long nowNanos) {
    long sinceTick = nowNanos - lastTickNanos;
    if (ticked && sinceTick > config.suspectAfterNanos()) {
      return "its failure detector has not run for "
          + millis(sinceTick)
          + " ms (this coordinator is stalled: paused, or starved of CPU); try again";
    }
    long left = STALL_SETTLE.toNanos() - (nowNanos - stallSeenNanos);
    return "it was stalled for "
        + stallMillis
        + " ms until "
        + millis(nowNanos - stallSeenNanos)
        + " ms ago, and beats that piled up meanwhile are still being read; try again in "
        + Math.max(1, millis(left))
        + " ms";
  }

  /** Counts a refusal, and reports it if none of its kind was reported for a while. */
  private MembershipEvent.Refused refuse(
      Heartbeat hb, MembershipEvent.Refusal kind, String reason, boolean newClaim, long nowNanos) {
    Long last = lastReported.get(kind);
    boolean report = last == null || nowNanos - last >= REFUSAL_REPORT_INTERVAL.toNanos();
    long since = unreported.getOrDefault(kind, 0L);
    if (report) {
      lastReported.put(kind, nowNanos);
      unreported.put(kind, 0L);
    } else {
      unreported.put(kind, since + 1);
    }
    return new MembershipEvent.Refused(
        hb.nodeId(), hb.address(), kind, reason, newClaim, report, report ? since : 0);
  }

  private static void accept(Member m, Heartbeat hb, long nowNanos) {
    m.address = hb.address();
    m.incarnation = hb.incarnation();
    m.lastSequence = hb.sequence();
    m.lastHeardNanos = nowNanos;
    m.lastBeatNanos = nowNanos;
    m.lowBeats = null;
    m.inFlight = hb.inFlight();
    m.capacity = hb.capacity();
    m.faults = hb.faults();
  }

  /**
   * The node said it is leaving on purpose. Ignored for an unknown node or an older incarnation (a
   * goodbye from a process that has already been replaced must not remove its successor).
   */
  public List<MembershipEvent> onLeave(String nodeId, long incarnation, String why, long nowNanos) {
    Member m = members.get(nodeId);
    if (m == null
        || incarnation < m.incarnation
        || m.state == NodeState.LEFT
        || m.state == NodeState.QUARANTINED) { // it gets no work either way; the quarantine holds
      return List.of();
    }
    String reason = why == null || why.isBlank() ? "said goodbye" : "said goodbye: " + why;
    return List.of(move(m, NodeState.LEFT, reason, nowNanos));
  }

  /**
   * An operator revoked the node's certificate: it gets no work from now on (LEFT at once, from any
   * state; its calls are refused before they reach the membership). Nothing for an unknown node;
   * one already LEFT stays so, and is marked revoked.
   */
  public List<MembershipEvent> onRevoked(String nodeId, String why, long nowNanos) {
    Member m = members.get(nodeId);
    if (m == null) {
      return List.of();
    }
    boolean wasLeft = m.state == NodeState.LEFT;
    m.revoked = true;
    m.backOnNextBeat = false;
    m.leftForRevocation = !wasLeft || m.leftForRevocation;
    m.votes.clear(); // a revocation ends a quarantine too: the node is out either way
    return wasLeft ? List.of() : List.of(move(m, NodeState.LEFT, why, nowNanos));
  }

  /**
   * An operator took a revocation back: the node's beats count again, and its next one makes it
   * ALIVE if it is LEFT (it need not wait out the goodbye grace: it never said goodbye).
   */
  public void onUnrevoked(String nodeId) {
    Member m = members.get(nodeId);
    if (m != null && m.revoked) {
      m.revoked = false;
      m.backOnNextBeat = m.state == NodeState.LEFT && m.leftForRevocation;
    }
  }

  /**
   * A call to the node failed in a way that suggests the node is gone (connection refused, timed
   * out). That is evidence: an ALIVE node becomes SUSPECT at once rather than after the silence
   * threshold. It is not proof (the network to it may be briefly congested), so only its heartbeats
   * can make it ALIVE again, and only silence can make it DEAD.
   */
  public List<MembershipEvent> onCallFailed(String nodeId, String what, long nowNanos) {
    Member m = members.get(nodeId);
    if (m == null || m.state != NodeState.ALIVE) {
      return List.of();
    }
    if (nowNanos - m.welcomedNanos < config.reconnectGraceNanos()) {
      // The node was (re)admitted a moment ago, so the caller's connection to it is most likely
      // still being set up again: gRPC fails calls with the old error ("connection refused")
      // until the new connection is ready. That says nothing about the node's health now.
      return List.of();
    }
    return List.of(move(m, NodeState.SUSPECT, "a call to it failed: " + what, nowNanos));
  }

  /**
   * Runs the failure detector: moves nodes whose silence passed a threshold. Call it often (every
   * quarter interval or so); how late it runs adds directly to detection time.
   */
  public List<MembershipEvent> tick(long nowNanos) {
    List<MembershipEvent> events = new ArrayList<>();
    if (ticked && nowNanos - lastTickNanos > config.suspectAfterNanos()) {
      // The detector did not run for longer than the suspect threshold: this coordinator was
      // paused (SIGSTOP, a long GC) or starved of CPU, and heartbeats that nodes sent meanwhile
      // may be waiting unread in socket buffers. Judging the nodes now would blame them for our
      // own stall, so give every node a fresh window instead.
      events.add(new MembershipEvent.DetectorStalled(millis(nowNanos - lastTickNanos)));
      stallSeen = true;
      stallSeenNanos = nowNanos;
      stallMillis = millis(nowNanos - lastTickNanos);
      for (Member m : members.values()) {
        m.lastHeardNanos = nowNanos;
      }
    }
    ticked = true;
    lastTickNanos = nowNanos;
    for (Iterator<Member> it = members.values().iterator(); it.hasNext(); ) {
      Member m = it.next();
      long silence = nowNanos - m.lastHeardNanos;
      if ((m.state == NodeState.DEAD || m.state == NodeState.LEFT)
          && nowNanos - m.sinceNanos >= limits.forgetAfter().toNanos()) {
        it.remove();
        events.add(
            new MembershipEvent.Forgotten(
                m.nodeId,
                m.address,
                m.state,
                m.state
                    + " for "
                    + millis(nowNanos - m.sinceNanos) / 1000
                    + " s (forget-after "
                    + limits.forgetAfter().toSeconds()
                    + " s)"));
        continue;
      }
      if (m.state == NodeState.QUARANTINED) {
        if (nowNanos - m.sinceNanos >= quarantine.expiry().toNanos()) {
          events.add(
              release(
                  m,
                  "quarantine expired after " + quarantine.expiry().toSeconds() + " s",
                  nowNanos));
        }
        continue; // silence does not matter while quarantined: it gets no work anyway
      }
      if (m.state == NodeState.ALIVE && silence > config.suspectAfterNanos()) {
        events.add(
            move(
                m,
                NodeState.SUSPECT,
                "no heartbeat for "
                    + millis(silence)
                    + " ms (threshold "
                    + config.suspectFormula()
                    + ")",
                nowNanos));
      } else if (m.state == NodeState.SUSPECT && silence > config.deadAfterNanos()) {
        events.add(
            move(
                m,
                NodeState.DEAD,
                "no heartbeat for "
                    + millis(silence)
                    + " ms (threshold "
                    + config.deadFormula()
                    + ")",
                nowNanos));
      }
    }
    return events;
  }

  /**
   * The node took part in a decided vote: {@code outvoted} if its result differed from the
   * majority's. A node outvoted {@link QuarantineConfig#threshold()} times within its last {@link
   * QuarantineConfig#window()} votes is QUARANTINED: it may be lying.
   */
  public List<MembershipEvent> onVote(String nodeId, boolean outvoted, long nowNanos) {
    Member m = members.get(nodeId);
    if (m == null) {
      return List.of();
    }
    m.votes.addLast(outvoted);
    while (m.votes.size() > quarantine.window()) {
      m.votes.removeFirst();
    }
    int against = outvoted(m);
    if (outvoted && against >= quarantine.threshold() && m.state.canBecome(NodeState.QUARANTINED)) {
      return List.of(
          move(
              m,
              NodeState.QUARANTINED,
              "outvoted "
                  + against
                  + " times in its last "
                  + m.votes.size()
                  + " votes (threshold "
                  + quarantine.threshold()
                  + " in "
                  + quarantine.window()
                  + "): it may be lying",
              nowNanos));
    }
    return List.of();
  }

  /**
   * An operator takes a QUARANTINED node back: it gets work again, starting with a clean voting
   * record.
   *
   * @throws IllegalArgumentException if the node is unknown
   * @throws IllegalStateException if it is not quarantined
   */
  public List<MembershipEvent> readmit(String nodeId, long nowNanos) {
    Member m = members.get(nodeId);
    if (m == null) {
      List<String> known = new ArrayList<>(members.keySet());
      known.sort(NodeIds.NATURAL);
      throw new IllegalArgumentException(
          "no node "
              + nodeId
              + " here; known nodes: "
              + (known.size() <= 10
                  ? known
                  : known.subList(0, 10) + " and " + (known.size() - 10) + " more"));
    }
    if (m.state != NodeState.QUARANTINED) {
      throw new IllegalStateException(nodeId + " is " + m.state + ", not QUARANTINED");
    }
    return List.of(release(m, "readmitted by an operator", nowNanos));
  }

  /** Ends a quarantine: ALIVE if the node still beats, DEAD if it went silent meanwhile. */
  private MembershipEvent.Transition release(Member m, String why, long nowNanos) {
    m.votes.clear();
    long silence = nowNanos - m.lastHeardNanos;
    if (silence > config.deadAfterNanos()) {
      return move(
          m,
          NodeState.DEAD,
          why
              + "; no heartbeat for "
              + millis(silence)
              + " ms (threshold "
              + config.deadFormula()
              + ")",
          nowNanos);
    }
    return move(m, NodeState.ALIVE, why, nowNanos);
  }

  private static int outvoted(Member m) {
    int n = 0;
    for (boolean v : m.votes) {
      if (v) {
        n++;
      }
    }
    return n;
  }

  private static MembershipEvent.Transition move(
      Member m, NodeState to, String reason, long nowNanos) {
    return move(m, to, reason, nowNanos, false);
  }

  /**
   * @param newProcess the move is made by a beat of a new incarnation
   */
  private static MembershipEvent.Transition move(
      Member m, NodeState to, String reason, long nowNanos, boolean newProcess) {
    // the Transition constructor checks the move against NodeState's table and throws if illegal
    MembershipEvent.Transition t =
        new MembershipEvent.Transition(m.nodeId, m.state, to, reason, newProcess);
    if (m.state == NodeState.LEFT) {
      m.backOnNextBeat = false; // it is back (a restart, or the beat it waited for)
      m.leftForRevocation = false;
    }
    if (to == NodeState.ALIVE) {
      m.welcomedNanos = nowNanos;
    }
    m.state = to;
    m.reason = reason;
    m.sinceNanos = nowNanos;
    return t;
  }

  /** One node, if known. */
  public Optional<NodeSnapshot> node(String nodeId, long nowNanos) {
    return Optional.ofNullable(members.get(nodeId)).map(m -> snapshot(m, nowNanos));
  }

  /** Every known node, ordered by id. */
  public List<NodeSnapshot> nodes(long nowNanos) {
    List<NodeSnapshot> out = new ArrayList<>(members.size());
    for (Member m : members.values()) {
      out.add(snapshot(m, nowNanos));
    }
    out.sort(Comparator.comparing(NodeSnapshot::nodeId, NodeIds.NATURAL));
    return out;
  }

  private static NodeSnapshot snapshot(Member m, long nowNanos) {
    return new NodeSnapshot(
        m.nodeId,
        m.address,
        m.state,
        m.incarnation,
        nowNanos - m.lastHeardNanos,
        m.inFlight,
        m.capacity,
        m.reason,
        nowNanos - m.sinceNanos,
        m.faults,
        outvoted(m),
        m.votes.size());
  }

  static long millis(long nanos) {
    return nanos / 1_000_000;
  }
}
