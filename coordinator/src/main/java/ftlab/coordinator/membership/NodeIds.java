package ftlab.coordinator.membership;

import java.util.Comparator;

/** Ordering of node ids that a person expects: node-2 before node-10. */
final class NodeIds {
  private NodeIds() {}

  /** Compares runs of digits by value and everything else character by character. */
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
