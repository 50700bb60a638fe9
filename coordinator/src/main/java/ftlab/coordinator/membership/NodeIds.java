package ftlab.coordinator.membership;

import ftlab.proto.BadRequests;
import java.util.Comparator;
import java.util.Optional;
import java.util.regex.Pattern;

/** What a node id may be, and the ordering of node ids that a person expects. */
public final class NodeIds {
  private NodeIds() {}

  /** The longest node id: a host name fits (63 characters a label), a pasted document does not. */
  public static final int MAX_LENGTH = 128;

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  /**
   * Why this is not a node id, or empty if it is one: 1 to 128 letters, digits, dots, underscores
   * and hyphens, starting with a letter or a digit (node-3, pool-2, a host name). Ids show in logs,
   * status tables and meter tags, where a newline or 100 KB would do harm.
   */
  public static Optional<String> problem(String id) {
    if (id == null || id.isEmpty()) {
      return Optional.of("no node id");
    }
    if (id.length() > MAX_LENGTH) {
      return Optional.of(
          "a node id must be at most " + MAX_LENGTH + " characters, got " + id.length());
    }
    if (!ID.matcher(id).matches()) {
      return Optional.of(
          "a node id is letters, digits, '.', '_' and '-', starting with a letter or a digit, got "
              + BadRequests.quote(id));
    }
    return Optional.empty();
  }

  /** Compares runs of digits by value and everything else character by character. */
  /** Node ids in the order a person expects: node-2 before node-10. */
  static final Comparator<String> NATURAL =
      (a, b) -> {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
          char ca = a.charAt(i);
          char cb = b.charAt(j);
          if (Character.isDigit(ca) && Character.isDigit(cb)) {
            int si = i;
            int sj = j;
            while (i < a.length() && Character.isDigit(a.charAt(i))) {
              i++;
            }
            while (j < b.length() && Character.isDigit(b.charAt(j))) {
              j++;
            }
            String da = a.substring(si, i).replaceFirst("^0+(?=.)", "");
            String db = b.substring(sj, j).replaceFirst("^0+(?=.)", "");
            int c =
                da.length() != db.length()
                    ? Integer.compare(da.length(), db.length())
                    : da.compareTo(db);
            if (c != 0) {
              return c;
            }
          } else {
            if (ca != cb) {
              return Character.compare(ca, cb);
            }
            i++;
            j++;
          }
        }
        return Integer.compare(a.length() - i, b.length() - j);
      };
}
