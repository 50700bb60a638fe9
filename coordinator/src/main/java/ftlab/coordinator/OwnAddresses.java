package ftlab.coordinator;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Whether a connection's local end is at an address this host no longer has. A coordinator cut off
 * the network and connected again may be given another address (Docker gives a container that
 * connects the lowest free one, and another container may have taken its old one meanwhile): its
 * connections to the nodes, made from the lost address, then lead nowhere, TCP retries them for
 * many minutes, and gRPC, which sees them READY, never hears of it. Nodes that went DEAD meanwhile
 * are called on fresh connections when they beat again; this finds the rest (a node QUARANTINED
 * through the cut, whose silence the detector does not count). The node's heartbeat links have the
 * same rule ({@code HeartbeatSender.movedAway} in node/): the same answer to the same question.
 *
 * <p>Not while the host has no address but loopback (cut off from every network: the connections
 * may resume at the same address once it is back), and never for a loopback or an in-process end.
 */
record OwnAddresses(Set<InetAddress> addresses, boolean connected) {
  /**
   * @param addresses every address of this host's interfaces
   * @param connected whether an interface that is up and not loopback has an address
   */
  OwnAddresses {
    addresses = Set.copyOf(addresses);
  }

  /**
   * Whether a connection's local end is lost: an IP address (not loopback) this host no longer has,
   * while it is connected.
   */
  boolean lost(SocketAddress local) {
    return connected
        && mayBeLost(local)
        && !addresses.contains(((InetSocketAddress) local).getAddress());
  }

  /**
   * Whether a local end could be lost at all, without looking at the host: an IP address, not
   * loopback (an in-process end, or a loopback one as under {@code ftlab local}, never is).
   */
  static boolean mayBeLost(SocketAddress local) {
    return local instanceof InetSocketAddress inet
        && inet.getAddress() != null
        && !inet.getAddress().isLoopbackAddress();
  }

  /** This host's addresses now; none, and not connected, if they cannot be read. */
  static OwnAddresses current() {
    Set<InetAddress> all = new HashSet<>();
    boolean connected = false;
    try {
      for (NetworkInterface i : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        List<InetAddress> mine = Collections.list(i.getInetAddresses());
        all.addAll(mine);
        connected |= i.isUp() && !i.isLoopback() && !mine.isEmpty();
      }
    } catch (SocketException e) {
      return new OwnAddresses(Set.of(), false);
    }
    return new OwnAddresses(all, connected);
  }
}
