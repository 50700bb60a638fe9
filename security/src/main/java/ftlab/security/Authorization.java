package ftlab.security;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Who may call what, in one table: each gRPC method and the roles that may call it (the standard
 * health and reflection services as a whole, {@code Service/*}). A method that is not in the table
 * is refused to everyone: a new RPC stays closed until a line here opens it.
 *
 * <pre>
 *   ftlab.v1.Coordinator/Submit, GetCluster                  client, admin
 *   ftlab.v1.CoordinatorAdmin/SetRedundancy, Readmit, Revoke admin
 *   ftlab.v1.Membership/Heartbeat, Leave                     node (and only for its own node id)
 *   ftlab.v1.Worker/Compute                                  coordinator
 *   ftlab.v1.NodeAdmin/SetFaults, Heal, GetFaults, Crash     admin
 *   grpc.health.v1.Health/*                                  every role
 *   grpc.reflection.v1(alpha).ServerReflection/*             every role
 * </pre>
 *
 * <p>The table decides by role; that a node speaks only for its own id is the membership service's
 * check (it knows the claimed id), fed by the caller's {@link Identity}.
 */
public final class Authorization {

  /** The roles allowed each method or service ({@code Service/*}). */
  public static final Map<String, Set<Role>> TABLE = table();

  private static Map<String, Set<Role>> table() {
    Set<Role> everyone = EnumSet.allOf(Role.class);
    Map<String, Set<Role>> t = new TreeMap<>();
    t.put("ftlab.v1.Coordinator/Submit", EnumSet.of(Role.CLIENT, Role.ADMIN));
    t.put("ftlab.v1.Coordinator/GetCluster", EnumSet.of(Role.CLIENT, Role.ADMIN));
    t.put("ftlab.v1.CoordinatorAdmin/SetRedundancy", EnumSet.of(Role.ADMIN));
    t.put("ftlab.v1.CoordinatorAdmin/Readmit", EnumSet.of(Role.ADMIN));
    t.put("ftlab.v1.CoordinatorAdmin/Revoke", EnumSet.of(Role.ADMIN));
    t.put("ftlab.v1.Membership/Heartbeat", EnumSet.of(Role.NODE));
    t.put("ftlab.v1.Membership/Leave", EnumSet.of(Role.NODE));
    t.put("ftlab.v1.Worker/Compute", EnumSet.of(Role.COORDINATOR));
    t.put("ftlab.v1.NodeAdmin/SetFaults", EnumSet.of(Role.ADMIN));
    t.put("ftlab.v1.NodeAdmin/Heal", EnumSet.of(Role.ADMIN));
    t.put("ftlab.v1.NodeAdmin/GetFaults", EnumSet.of(Role.ADMIN));
    t.put("ftlab.v1.NodeAdmin/Crash", EnumSet.of(Role.ADMIN));
    // the standard services: health (what is up) and reflection (what the services are)
    t.put("grpc.health.v1.Health/*", everyone);
    t.put("grpc.reflection.v1.ServerReflection/*", everyone);
    t.put("grpc.reflection.v1alpha.ServerReflection/*", everyone);
    return java.util.Collections.unmodifiableMap(t);
  }

  private Authorization() {}

  /** The roles that may call a method ("ftlab.v1.Coordinator/Submit"): empty if none may. */
  public static Set<Role> allowed(String fullMethodName) {
    Set<Role> exact = TABLE.get(fullMethodName);
    if (exact != null) {
      return exact;
    }
    int slash = fullMethodName.indexOf('/');
    if (slash > 0) {
      Set<Role> service = TABLE.get(fullMethodName.substring(0, slash) + "/*");
      if (service != null) {
        return service;
      }
    }
    return Set.of();
  }

  /**
   * Why this caller may not call this method, or empty if it may. The sentence names the method,
   * the caller and the roles that may.
   */
  public static Optional<String> refusal(String fullMethodName, Identity caller) {
    Set<Role> roles = allowed(fullMethodName);
    if (roles.contains(caller.role())) {
      return Optional.empty();
    }
    return Optional.of(
        roles.isEmpty()
            ? fullMethodName + " is open to no role"
            : fullMethodName
                + " is for "
                + words(roles)
                + ", and the caller's certificate names "
                + caller);
  }

  private static String words(Set<Role> roles) {
    List<String> words = roles.stream().map(Role::word).toList();
    return words.size() == 1
        ? (words.get(0).matches("[aeiou].*") ? "an " : "a ") + words.get(0) + " only"
        : String.join(", ", words.subList(0, words.size() - 1))
            + " or "
            + words.get(words.size() - 1);
  }
}
