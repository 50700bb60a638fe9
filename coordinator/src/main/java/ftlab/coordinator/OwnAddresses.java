package ftlab.coordinator;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;

/**
 * Whether this process came back on the network at another address. A coordinator cut off the
 * network and connected again may be given another address (Docker hands the freed one to the next
 * container that connects): its connections to the nodes from the lost address then lead nowhere,
 * and gRPC, which sees them READY, never hears of it. Nodes that went DEAD meanwhile are called on
 * fresh connections when they beat again; this catches the rest (a node QUARANTINED through the
 * cut, whose silence the detector does not count; a cut shorter than the DEAD threshold).
 *
 * <p>Looked at with this host's addresses passed in (once a second, {@link #current()}): {@link
 * #look} answers the addresses lost since the look before, once, as soon as the process has an
 * address again. While it has none (cut off from every network) it waits and keeps what it had, so
 * that a cut followed by a connect at the same address loses nothing (the old connections resume by
 * themselves). Loopback and link-local addresses are not counted: a connect gives an interface a
 * new link-local address whatever its real one is.
 */
final class OwnAddresses {
  private Set<InetAddress> had = Set.of();

  /**
   * @param now this host's addresses now (not loopback, not link-local)
   * @return the addresses it had at the last look with any, that it no longer has while it has
   *     another; empty if none was lost, or if it has none now
   */
  Set<InetAddress> look(Set<InetAddress> now) {
    if (now.isEmpty()) {
      return Set.of();
    }
    Set<InetAddress> lost = new HashSet<>(had);
    lost.removeAll(now);
    had = Set.copyOf(now);
    return lost;
  }

  /** This host's addresses on interfaces that are up: not loopback, not link-local. */
  static Set<InetAddress> current() {
    Set<InetAddress> out = new HashSet<>();
    try {
      for (NetworkInterface i : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!i.isUp() || i.isLoopback()) {
          continue;
        }
        for (InetAddress a : Collections.list(i.getInetAddresses())) {
          if (!a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
            out.add(a);
          }
        }
      }
    } catch (SocketException e) {
      return Set.of(); // as if cut off: the next look tries again
    }
    return out;
  }
}
