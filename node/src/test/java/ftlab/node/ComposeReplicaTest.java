package ftlab.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class ComposeReplicaTest {

  @Test
  void readsTheReplicaNumberFromBothComposeNamings() {
    // Compose v2 and 1.29, as Docker's DNS answers a reverse lookup (with or without the root dot)
    assertThat(ComposeReplica.numberIn("ftlab-pool-2.ftlab.")).hasValue(2);
    assertThat(ComposeReplica.numberIn("ftlab_pool_12.ftlab_default")).hasValue(12);
    // a project name with dashes and digits of its own
    assertThat(ComposeReplica.numberIn("ftlab-journey-2-pool-3.ftlab-journey-2_default"))
        .hasValue(3);
    assertThat(ComposeReplica.numberIn("ftlab-pool-1")).hasValue(1);
  }

  @Test
  void aNameWithoutAReplicaNumberHasNone() {
    assertThat(ComposeReplica.numberIn("3f9c2a1b7e40.ftlab_default"))
        .isEqualTo(OptionalInt.empty());
    assertThat(ComposeReplica.numberIn("laptop.example.org")).isEmpty();
    assertThat(ComposeReplica.numberIn("")).isEmpty();
    assertThat(ComposeReplica.numberIn("pool-1234567")).isEmpty();
  }

  @Test
  void asksForTheReverseNameOfTheAddress() throws Exception {
    assertThat(ComposeReplica.reverseName(InetAddress.getByName("172.18.0.5")))
        .isEqualTo("5.0.18.172.in-addr.arpa");
    assertThatThrownBy(() -> ComposeReplica.reverseName(InetAddress.getByName("::1")))
        .hasMessageContaining("not an IPv4 address");
  }
}
