package ftlab.node.faults;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The short text form of faults, for the node's {@code --faults} flag and {@code FTLAB_FAULTS}:
 * faults separated by commas, each {@code KIND[:ARGUMENT][@FRACTION]}.
 *
 * <pre>
 *   slow:200ms               every task 200 ms slower
 *   slow:200ms+50ms@10%     10% of tasks 200 ms plus a random 0-50 ms slower
 *   error@20%                20% of tasks answer UNAVAILABLE
 *   error:INTERNAL@0.2       20% of tasks answer INTERNAL
 *   lie@30%                  30% of tasks get a wrong result
 *   lie                      every task gets a wrong result
 *   freeze                   no answers, no heartbeats
 *   mute-heartbeats          answers, but no heartbeats
 *   slow:1s@50%,lie@10%      several at once
 * </pre>
 *
 * Durations are in ms or s ({@code 200ms}, {@code 1.5s}); a fraction is a percentage ({@code 30%})
 * or a number ({@code 0.3}); without one, every task. An empty text means no faults.
 */
public final class FaultText {
  private FaultText() {}

  private static final Pattern SLOW_ARGUMENT = Pattern.compile("([^+]+?)(?:\\+(.+))?");
  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s)");

  /**
   * Reads faults written in the short form.
   *
   * @throws IllegalArgumentException with one sentence naming the bad part
   */
  public static FaultPlan parse(String text) {
    if (text == null || text.isBlank()) {
      return FaultPlan.NONE;
    }
    FaultPlan.Slow slow = null;
    FaultPlan.Errors errors = null;
    FaultPlan.Lie lie = null;
    boolean freeze = false;
    boolean mute = false;
    Set<String> seen = new HashSet<>();
    for (String raw : text.split(",", -1)) {
      String part = raw.strip();
      if (part.isEmpty()) {
        throw new IllegalArgumentException(
            "empty fault in '" + text + "': write faults separated by single commas");
      }
      String kindAndArgument = part;
      String fractionText = null;
      int at = part.indexOf('@');
      if (at >= 0) {
        kindAndArgument = part.substring(0, at);
        fractionText = part.substring(at + 1);
      }
      String kind = kindAndArgument;
      String argument = null;
      int colon = kindAndArgument.indexOf(':');
      if (colon >= 0) {
        kind = kindAndArgument.substring(0, colon);
        argument = kindAndArgument.substring(colon + 1);
      }
      kind = kind.strip().toLowerCase(Locale.ROOT);
      if (!seen.add(kind)) {
        throw new IllegalArgumentException(
            "'" + kind + "' is given twice in '" + text + "': give each kind of fault once");
      }
      try {
        switch (kind) {
          case "slow" -> slow = slow(part, argument, fraction(part, fractionText));
          case "error" ->
              errors =
                  new FaultPlan.Errors(
                      FaultPlan.codeNamed(argument == null ? "" : argument),
                      fraction(part, fractionText));
          case "lie" -> {
            noArgument(part, argument);
            lie = new FaultPlan.Lie(fraction(part, fractionText));
          }
          case "freeze", "mute-heartbeats" -> {
            noArgument(part, argument);
            if (fractionText != null) {
              throw new Bad(
                  "'" + part + "' takes no fraction: " + kind + " holds every task or none");
            }
            if (kind.equals("freeze")) {
              freeze = true;
            } else {
              mute = true;
            }
          }
          default ->
              throw new Bad(
                  "unknown fault '"
                      + part
                      + "': expected slow:DELAY, error[:CODE], lie, freeze or mute-heartbeats,"
                      + " each with an optional @FRACTION (e.g. lie@30%)");
        }
      } catch (Bad e) {
        throw new IllegalArgumentException(e.getMessage());
      } catch (IllegalArgumentException rangeOrCode) {
        // a value the fault model refused: say which part of the text it came from
        throw new IllegalArgumentException("in '" + part + "': " + rangeOrCode.getMessage());
      }
    }
    return new FaultPlan(slow, errors, lie, freeze, mute);
  }

  /** A mistake in the text itself, whose message already names the part. */
  private static final class Bad extends RuntimeException {
    Bad(String message) {
      super(message, null, false, false);
    }
  }

  private static FaultPlan.Slow slow(String part, String argument, double fraction) {
    if (argument == null || argument.isBlank()) {
      throw new Bad("'" + part + "' needs a delay: write e.g. slow:200ms or slow:200ms+50ms");
    }
    Matcher m = SLOW_ARGUMENT.matcher(argument.strip());
    if (!m.matches()) {
      throw new Bad("'" + part + "' is not DELAY or DELAY+JITTER, e.g. slow:200ms+50ms");
    }
    long delay = millis(part, m.group(1));
    long jitter = m.group(2) == null ? 0 : millis(part, m.group(2));
    FaultPlan.checkMillis("slow.delay_ms", delay);
    FaultPlan.checkMillis("slow.jitter_ms", jitter);
    return new FaultPlan.Slow((int) delay, (int) jitter, fraction);
  }

  private static long millis(String part, String text) {
    Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new Bad(
          "'" + text.strip() + "' in '" + part + "' is not a duration: write e.g. 200ms or 1.5s");
    }
    double value = Double.parseDouble(m.group(1));
    return Math.round(m.group(2).equals("s") ? value * 1000 : value);
  }

  /** "30%" or "0.3"; none given: every task. */
  private static double fraction(String part, String text) {
    if (text == null) {
      return 1;
    }
    String t = text.strip();
    double value;
    try {
      value =
          t.endsWith("%")
              ? Double.parseDouble(t.substring(0, t.length() - 1).strip()) / 100
              : Double.parseDouble(t);
    } catch (NumberFormatException e) {
      throw new Bad("'" + t + "' in '" + part + "' is not a fraction: write e.g. @30% or @0.3");
    }
    if (!(value > 0 && value <= 1)) {
      throw new Bad(
          "the fraction in '" + part + "' must be more than 0 and at most 100%, got " + t);
    }
    return value;
  }

  private static void noArgument(String part, String argument) {
    if (argument != null) {
      throw new Bad("'" + part + "' takes no ':' argument");
    }
  }
}
