package ftlab.coordinator.membership;

import ftlab.proto.Faults;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
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
 *   <li>a heartbeat: ALIVE again (from LEFT only if the node restarted, i.e. a new incarnation).
 * </ol>
 *
 * <p>Apart from failures, there is the quarantine of nodes that lie (vote mode): a node outvoted
 * too often ({@link QuarantineConfig}) is QUARANTINED and gets no work until an operator readmits
 * it or the quarantine expires; heartbeats, silence, goodbyes and restarts do not end it.
 */
public final class Membership {
  private final DetectorConfig config;
  private final QuarantineConfig quarantine;
  private final Map<String, Member> members = new LinkedHashMap<>();

  /** When {@link #tick} last ran; used to notice that the coordinator itself was stalled. */
  private long lastTickNanos;

  private boolean ticked;

  public Membership(DetectorConfig config) {
    this(config, QuarantineConfig.DEFAULT);
  }

  public Membership(DetectorConfig config, QuarantineConfig quarantine) {
    this.config = config;
    this.quarantine = quarantine;
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

    Member(String nodeId) {
      this.nodeId = nodeId;
    }
  }

  /**
   * A heartbeat arrived. Joins an unknown node, refreshes a known one, brings a SUSPECT or DEAD
   * node back, and ignores beats that are stale: from an older incarnation (a late beat of a
   * process that has since restarted), with a sequence number already seen (reordered), or from a
   * process that has already said goodbye.
   */
  public List<MembershipEvent> onHeartbeat(Heartbeat hb, long nowNanos) {
    Member m = members.get(hb.nodeId());
    if (m == null) {
      m = new Member(hb.nodeId());
      members.put(hb.nodeId(), m);
      accept(m, hb, nowNanos);
      m.state = NodeState.ALIVE;
      m.reason = "first heartbeat (incarnation " + hb.incarnation() + ", " + hb.address() + ")";
      m.sinceNanos = nowNanos;
      m.welcomedNanos = nowNanos;
      return List.of(new MembershipEvent.Transition(m.nodeId, null, NodeState.ALIVE, m.reason));
    }
    if (hb.incarnation() < m.incarnation) {
      return List.of(); // a late beat from a process that has since been replaced
    }
    if (hb.incarnation() > m.incarnation) {
      long old = m.incarnation;
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
    if (hb.sequence() <= m.lastSequence || m.state == NodeState.LEFT) {
      return List.of(); // reordered, duplicated, or sent while the node was leaving
    }
    long silence = nowNanos - m.lastHeardNanos;
    accept(m, hb, nowNanos);
    if (m.state == NodeState.SUSPECT || m.state == NodeState.DEAD) {
      return List.of(
          move(
              m,
              NodeState.ALIVE,
              "heartbeat #"
                  + hb.sequence()
                  + " arrived after "
                  + millis(silence)
                  + " ms of silence",
              nowNanos));
    }
    return List.of();
  }

  private static void accept(Member m, Heartbeat hb, long nowNanos) {
    m.address = hb.address();
    m.incarnation = hb.incarnation();
    m.lastSequence = hb.sequence();
    m.lastHeardNanos = nowNanos;
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
      for (Member m : members.values()) {
        m.lastHeardNanos = nowNanos;
      }
    }
    ticked = true;
    lastTickNanos = nowNanos;
    for (Member m : members.values()) {
      long silence = nowNanos - m.lastHeardNanos;
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
      throw new IllegalArgumentException(
          "no node " + nodeId + " here; known nodes: " + members.keySet());
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
