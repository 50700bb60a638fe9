package ftlab.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.inprocess.InProcessSocketAddress;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OwnAddressesTest {
  private static InetAddress ip(String a) {
    try {
      return InetAddress.getByName(a);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private static final InetAddress LOOPBACK = ip("127.0.0.1");
  private static final InetAddress OLD = ip("172.19.0.2");
  private static final InetAddress NEW = ip("172.19.0.9");

  private static InetSocketAddress end(InetAddress a) {
    return new InetSocketAddress(a, 43210);
  }

  @Test
  void anEndAtAnAddressTheHostStillHasIsNotLost() {
    OwnAddresses host = new OwnAddresses(Set.of(LOOPBACK, OLD), true);
    assertThat(host.lost(end(OLD))).isFalse();
  }

  @Test
  void anEndAtAnAddressTheHostNoLongerHasIsLostWhileItHasAnother() {
    OwnAddresses host = new OwnAddresses(Set.of(LOOPBACK, NEW), true);
    assertThat(host.lost(end(OLD))).isTrue();
  }

  @Test
  void whileCutOffFromEveryNetworkNothingIsLost() {
    // the old address may come back, and the connections with it
    OwnAddresses host = new OwnAddresses(Set.of(LOOPBACK), false);
    assertThat(host.lost(end(OLD))).isFalse();
  }

  @Test
  void loopbackAndInProcessEndsAreNeverLost() {
    OwnAddresses host = new OwnAddresses(Set.of(NEW), true);
    assertThat(host.lost(end(LOOPBACK))).isFalse();
    assertThat(host.lost(new InProcessSocketAddress("node-1"))).isFalse();
  }

  @Test
  void thisHostHasItsLoopbackAndNotADocumentationAddress() {
    OwnAddresses here = OwnAddresses.current();
    assertThat(here.addresses()).contains(LOOPBACK);
    assertThat(here.lost(end(LOOPBACK))).isFalse();
    // 192.0.2.0/24 is for documentation only (RFC 5737): never this host's
    assertThat(here.lost(end(ip("192.0.2.77")))).isEqualTo(here.connected());
  }
}
