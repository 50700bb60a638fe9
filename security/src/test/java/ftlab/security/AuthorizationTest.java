package ftlab.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every RPC of ftlab x every role: the table's promise, row by row. */
class AuthorizationTest {

  private static final Set<Role> USERS = EnumSet.of(Role.CLIENT, Role.ADMIN);
  private static final Set<Role> ADMIN = EnumSet.of(Role.ADMIN);
  private static final Set<Role> NODE = EnumSet.of(Role.NODE);
  private static final Set<Role> COORDINATOR = EnumSet.of(Role.COORDINATOR);
  private static final Set<Role> EVERYONE = EnumSet.allOf(Role.class);

  static Stream<Arguments> rows() {
    return Stream.of(
        Arguments.of("ftlab.v1.Coordinator/Submit", USERS),
        Arguments.of("ftlab.v1.Coordinator/GetCluster", USERS),
        Arguments.of("ftlab.v1.CoordinatorAdmin/SetRedundancy", ADMIN),
        Arguments.of("ftlab.v1.CoordinatorAdmin/Readmit", ADMIN),
        Arguments.of("ftlab.v1.CoordinatorAdmin/Revoke", ADMIN),
        Arguments.of("ftlab.v1.Membership/Heartbeat", NODE),
        Arguments.of("ftlab.v1.Membership/Leave", NODE),
        Arguments.of("ftlab.v1.Worker/Compute", COORDINATOR),
        Arguments.of("ftlab.v1.NodeAdmin/SetFaults", ADMIN),
        Arguments.of("ftlab.v1.NodeAdmin/Heal", ADMIN),
        Arguments.of("ftlab.v1.NodeAdmin/GetFaults", ADMIN),
        Arguments.of("ftlab.v1.NodeAdmin/Crash", ADMIN),
        Arguments.of("grpc.health.v1.Health/Check", EVERYONE),
        Arguments.of("grpc.health.v1.Health/Watch", EVERYONE),
        Arguments.of("grpc.reflection.v1.ServerReflection/ServerReflectionInfo", EVERYONE),
        Arguments.of("grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", EVERYONE),
        // not in the table: closed to all
        Arguments.of("ftlab.v1.Coordinator/Unknown", Set.of()),
        Arguments.of("ftlab.v1.Worker/ComputeMore", Set.of()),
        Arguments.of("ftlab.v1.Membership/Join", Set.of()),
        Arguments.of("ftlab.v1.NodeAdmin/Reboot", Set.of()),
        Arguments.of("other.Service/Method", Set.of()),
        Arguments.of("no-slash", Set.of()));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("rows")
  void everyRoleIsAllowedExactlyWhereTheTableSays(String method, Set<Role> allowed) {
    for (Role role : Role.values()) {
      Identity caller = new Identity(role, "x-1");
      if (allowed.contains(role)) {
        assertThat(Authorization.refusal(method, caller))
            .as("%s calling %s", role, method)
            .isEmpty();
      } else {
        assertThat(Authorization.refusal(method, caller))
            .as("%s calling %s", role, method)
            .get()
            .asString()
            .contains(method)
            .contains(allowed.isEmpty() ? "open to no role" : "names " + caller);
      }
    }
  }

  @org.junit.jupiter.api.Test
  void theSentenceSaysWhoMay() {
    assertThat(
            Authorization.refusal(
                "ftlab.v1.CoordinatorAdmin/SetRedundancy", new Identity(Role.CLIENT, "client")))
        .contains(
            "ftlab.v1.CoordinatorAdmin/SetRedundancy is for an admin only, and the caller's"
                + " certificate names client client");
  }
}
