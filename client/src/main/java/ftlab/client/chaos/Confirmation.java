package ftlab.client.chaos;

import ftlab.proto.FaultWords;
import ftlab.proto.Faults;
import ftlab.proto.NodeState;
import ftlab.proto.NodeView;
import java.util.Optional;
import java.util.Set;

/**
 * What a coordinator's view must show for a chaos command to count as noticed there, and when it
 * first showed it. Pure: the caller polls the views and says how long after the node's reply it
 * asked for each one.
 *
 * <p>A coordinator is never told about a fault: it notices it, or not, from what the node does. A
 * slow, failing or lying node reports its faults in its heartbeats ({@code NodeView.faults}); a
 * frozen or muted node goes silent, and the failure detector makes it SUSPECT, then DEAD; a crashed
 * node ends up DEAD; a healed node beats again without faults.
 */
sealed interface Confirmation {

  /**
   * When the change shows in {@code view}, in milliseconds after the node's reply: possibly
   * negative (the coordinator saw it that way before the change, e.g. already DEAD); empty if it
   * does not show (yet).
   *
   * @param askedMsAfterReply when the view was asked for, in ms after the node's reply. Every age
   *     in the view is measured back from a moment after that, so subtracting one from it gives an
   *     upper bound of when the thing happened.
   */
  Optional<Long> seenAfterMs(NodeView view, long askedMsAfterReply);

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

  /** The node's heartbeats report exactly these faults: a slow, failing or lying node. */
  record ReportsFaults(Faults expected) implements Confirmation {
    @Override
    public Optional<Long> seenAfterMs(NodeView view, long askedMsAfterReply) {
      // A beat older than the change may still report the faults of before it, even the same as
      // those now in force: only a newer beat counts.
      boolean freshBeat = view.getLastHeartbeatAgeMs() < askedMsAfterReply;
      if (freshBeat && view.getFaults().equals(expected)) {
        return Optional.of(askedMsAfterReply - view.getLastHeartbeatAgeMs());
      }
      return Optional.empty();
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
    public Optional<Long> seenAfterMs(NodeView view, long askedMsAfterReply) {
      return NONE.seenAfterMs(view, askedMsAfterReply);
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
    public Optional<Long> seenAfterMs(NodeView view, long askedMsAfterReply) {
      if (states.contains(view.getState())) {
        return Optional.of(askedMsAfterReply - view.getSinceTransitionMs());
      }
      return Optional.empty();
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
