package ftlab.security;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What a certificate lets its holder do: the second part of its identity, {@code
 * spiffe://ftlab/ROLE/NAME}. Which role may call which method is {@link Authorization}'s table.
 */
public enum Role {
  /** A worker: sends heartbeats and its goodbye to coordinators, answers their Compute calls. */
  NODE,
  /** Dispatches requests: the only caller of a node's Compute. */
  COORDINATOR,
  /** Submits requests and reads the cluster view. */
  CLIENT,
  /** An operator: everything a client may do, plus modes, readmissions and faults. */
  ADMIN;

  /** "node", as in the certificate's URI and in sentences. */
  public String word() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The role a word names ("node"), or an exception whose message lists the roles. */
  public static Role of(String word) {
    for (Role role : values()) {
      if (role.word().equals(word)) {
        return role;
      }
    }
    throw new IllegalArgumentException(
        "no role '"
            + word
            + "': one of "
            + Arrays.stream(values()).map(Role::word).collect(Collectors.joining(", ")));
  }
}
