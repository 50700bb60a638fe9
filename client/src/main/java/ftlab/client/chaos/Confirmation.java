package ftlab.client.chaos;

import ftlab.proto.FaultWords;
import ftlab.proto.Faults;
import ftlab.proto.NodeState;
import ftlab.proto.NodeView;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What a coordinator's view must show for a chaos command to count as noticed there, and when it
 * came to show it. Pure: the caller polls the views and passes in its own clock readings.
 *
 * <p>A coordinator is never told about a fault: it notices it, or not, from what the node does. A
 * slow, failing or lying node reports its faults in its heartbeats ({@code NodeView.faults}); a
 * frozen or muted node goes silent, and the failure detector makes it SUSPECT, then DEAD; a crashed
 * node ends up DEAD; a healed node beats again without faults.
 *
 * <p><b>Two clocks.</b> The CLI and the coordinator do not share a clock, and no time read on one
 * is ever compared with a time read on the other. The coordinator reports durations only (how old
 * the last beat is, how long the node has been in its state), measured when it made the view; the
 * CLI knows when it sent the change and when the view's reply arrived. The view was made before its
 * reply arrived, so "arrived minus the reported duration" is the latest moment, on the CLI's clock,
 * at which the coordinator can have come to show the change. Everything the change causes happens
 * after the CLI sent it, so that moment is never before the send unless the coordinator showed the
 * same thing before the change: then it "already sees it". See {@link #seenAfterMs}.
 */
sealed interface Confirmation {

  /** Whether {@code view} shows the change. */
  boolean shows(NodeView view);

  /**
   * For a view that {@link #shows} the change: for how long, at the coordinator, when it made the
   * view, it had been showing it (the age of the beat that reported the faults, or the time since
   * the state transition).
   */
  long shownForMs(NodeView view);

  /** Why a view that does not show the change does not, in a few words. */
  String notYet(NodeView view);

  /**
   * Why this coordinator could not show the change at all, judging by its view of the node from
   * before it (empty: the view did not have the node, or the coordinator did not answer); nothing
   * if it could.
   */
  default Optional<String> cannotShow(Optional<NodeView> before) {
    return Optional.empty();
  }

  /**
   * When the coordinator came to show the change, in ms after the CLI sent it, at the latest: the
   * view's reply arrived at {@code receivedNanos} and the coordinator had been showing the change
   * for {@link #shownForMs} when it made the view, some time before that. Only one clock is read:
   * this process's {@link System#nanoTime()}.
   *
   * <p>Never negative for a change the request caused (its effects come after it was sent); a
   * negative value means the coordinator showed this before the request was sent.
   *
   * @param sentNanos when the CLI sent the change to the node
   * @param receivedNanos when the CLI received the view
   */
  default long seenAfterMs(NodeView view, long sentNanos, long receivedNanos) {
    long latest = receivedNanos - TimeUnit.MILLISECONDS.toNanos(shownForMs(view));
    // floorDiv, not division: -0.5 ms is "before the send", not 0
    return Math.floorDiv(latest - sentNanos, 1_000_000L);
  }

  /** The node's heartbeats report exactly these faults: a slow, failing or lying node. */
  record ReportsFaults(Faults expected) implements Confirmation {
    @Override
    public boolean shows(NodeView view) {
      return view.getFaults().equals(expected);
    }

    @Override
    public long shownForMs(NodeView view) {
      return view.getLastHeartbeatAgeMs();
    }

    @Override
    public String notYet(NodeView view) {
      return "it shows "
          + view.getNodeId()
          + " with "
          + FaultWords.describeOr(view.getFaults(), "no faults");
    }
  }

  /**
   * Heal of a node that kept beating: its heartbeats report no faults any more. "No faults" is also
   * what a coordinator shows that does not read faults from heartbeats at all; so a heal counts as
   * seen only by a coordinator that showed the faults before it.
   */
  record FaultsCleared(Faults had) implements Confirmation {
    private static final ReportsFaults NONE = new ReportsFaults(Faults.getDefaultInstance());

    @Override
    public boolean shows(NodeView view) {
      return NONE.shows(view);
    }

    @Override
    public long shownForMs(NodeView view) {
      return NONE.shownForMs(view);
    }

    @Override
    public String notYet(NodeView view) {
      return NONE.notYet(view);
    }

    @Override
    public Optional<String> cannotShow(Optional<NodeView> before) {
      if (before.isEmpty()) {
        return Optional.of("its view from before the heal is unknown, so a change cannot show");
      }
      if (!before.get().getFaults().equals(had)) {
        return Optional.of(
            "it did not show "
                + before.get().getNodeId()
                + "'s faults before the heal either (it showed "
                + FaultWords.describeOr(before.get().getFaults(), "no faults")
                + "), so it cannot show them gone");
      }
      return Optional.empty();
    }
  }

  /** The failure detector has the node in one of these states. */
  record InState(Set<NodeState> states) implements Confirmation {
    @Override
    public boolean shows(NodeView view) {
      return states.contains(view.getState());
    }

    @Override
    public long shownForMs(NodeView view) {
      return view.getSinceTransitionMs();
    }

    @Override
    public String notYet(NodeView view) {
      return "it still has " + view.getNodeId() + " " + view.getState();
    }
  }

  /** freeze, mute-heartbeats: the node goes silent and the detector suspects it. */
  Confirmation SILENCED = new InState(Set.of(NodeState.SUSPECT, NodeState.DEAD));

  /** crash: the node is gone for good. */
  Confirmation GONE = new InState(Set.of(NodeState.DEAD));

  /** heal of a silent node: it beats again. */
  Confirmation BEATING = new InState(Set.of(NodeState.ALIVE));
}
