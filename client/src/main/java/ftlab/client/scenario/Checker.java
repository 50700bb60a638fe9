package ftlab.client.scenario;

import ftlab.client.scenario.Scenario.Count;
import ftlab.client.scenario.Scenario.Expectation;
import ftlab.client.scenario.Scenario.Outcome;
import ftlab.client.scenario.Scenario.Percentile;
import ftlab.client.scenario.Scenario.StateWithin;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The verdict on a history: each expectation of the scenario met or missed, with the figures that
 * decided it. A pure function of the scenario and the history, so that {@code ftlab scenario check}
 * gives the same verdict on a saved history as the run did.
 */
public final class Checker {
  private Checker() {}

  /** One expectation's verdict. */
  public record Verdict(Expectation expectation, boolean met, String figures) {}

  /** The whole verdict: every expectation's, and the run's figures. */
  public record Report(List<Verdict> verdicts, long requests, long ok, long failed, long wrong) {
    public boolean passed() {
      return verdicts.stream().allMatch(Verdict::met);
    }
  }

  public static Report check(Scenario scenario, List<History.Event> events) {
    List<History.Request> requests = new ArrayList<>();
    List<History.Action> actions = new ArrayList<>();
    List<History.Transition> transitions = new ArrayList<>();
    List<History.Refusal> refusals = new ArrayList<>();
    for (History.Event e : events) {
      if (e instanceof History.Request r) {
        requests.add(r);
      } else if (e instanceof History.Action a) {
        actions.add(a);
      } else if (e instanceof History.Transition t) {
        transitions.add(t);
      } else if (e instanceof History.Refusal r) {
        refusals.add(r);
      }
    }
    List<Verdict> verdicts = new ArrayList<>();
    // an action that did not take effect fails the scenario, whatever else it expects
    for (History.Action a : actions) {
      if (!a.confirmed()) {
        verdicts.add(new Verdict(new Scenario.ActionTookEffect(a.name()), false, a.detail()));
      }
    }
    for (Expectation x : scenario.expectations()) {
      if (x instanceof Count c) {
        verdicts.add(count(c, requests));
      } else if (x instanceof Percentile p) {
        verdicts.add(percentile(p, requests));
      } else if (x instanceof StateWithin s) {
        verdicts.add(stateWithin(s, actions, transitions, requests));
      } else if (x instanceof Scenario.Share s) {
        verdicts.add(share(s, requests));
      } else if (x instanceof Scenario.Throughput t) {
        verdicts.add(throughput(t, requests, scenario.duration().toMillis()));
      } else if (x instanceof Scenario.Refused r) {
        verdicts.add(refused(r, refusals));
      } else {
        throw new IllegalStateException("not an expectation a file can hold: " + x);
      }
    }
    long ok = requests.stream().filter(r -> r.outcome() == Outcome.OK).count();
    long failed = requests.stream().filter(r -> r.outcome() == Outcome.FAILED).count();
    long wrong = requests.stream().filter(r -> r.outcome() == Outcome.WRONG).count();
    return new Report(verdicts, requests.size(), ok, failed, wrong);
  }

  private static Verdict count(Count c, List<History.Request> requests) {
    List<History.Request> sent =
        requests.stream().filter(r -> c.window().contains(r.sentMs())).toList();
    List<History.Request> those = sent.stream().filter(r -> r.outcome() == c.outcome()).toList();
    StringBuilder figures =
        new StringBuilder(those.size() + " of " + sent.size() + " requests " + c.outcome().word());
    if (!those.isEmpty()) {
      History.Request first =
          those.stream()
              .min(java.util.Comparator.comparingLong(History.Request::sentMs))
              .orElseThrow();
      figures
          .append("; the first: #")
          .append(first.id())
          .append(", sent at ")
          .append(seconds(first.sentMs()))
          .append(
              c.outcome() == Outcome.FAILED
                  ? ", failed at " + seconds(first.atMs()) + ": " + first.error()
                  : ", answered by " + first.node());
    }
    return new Verdict(c, c.allows(those.size()), figures.toString());
  }

  private static Verdict percentile(Percentile p, List<History.Request> requests) {
    long[] latencies =
        requests.stream()
            .filter(r -> p.window().contains(r.sentMs()))
            .mapToLong(History.Request::latencyMs)
            .sorted()
            .toArray();
    if (latencies.length == 0) {
      return new Verdict(p, false, "no request was sent in that window");
    }
    // nearest rank: the smallest latency with at least p% of the requests at or below it
    int rank = (int) Math.ceil(p.percentile() / 100.0 * latencies.length);
    long value = latencies[Math.max(0, Math.min(latencies.length, rank) - 1)];
    return new Verdict(
        p,
        value < p.below().toMillis(),
        Durations.percentileName(p.percentile())
            + " "
            + value
            + " ms over "
            + latencies.length
            + " requests");
  }

  private static Verdict share(Scenario.Share s, List<History.Request> requests) {
    java.util.Map<String, Long> byNode = new java.util.TreeMap<>();
    long answered = 0;
    for (History.Request r : requests) {
      if (s.window().contains(r.sentMs()) && r.outcome() != Outcome.FAILED) {
        byNode.merge(r.node(), 1L, Long::sum);
        answered++;
      }
    }
    if (answered == 0) {
      return new Verdict(s, false, "no request sent in that window was answered");
    }
    long mine = byNode.getOrDefault(s.node(), 0L);
    double percent = 100.0 * mine / answered;
    StringBuilder others = new StringBuilder();
    for (var e : byNode.entrySet()) {
      if (!e.getKey().equals(s.node())) {
        others
            .append(others.length() == 0 ? "" : ", ")
            .append(e.getKey())
            .append(' ')
            .append(Math.round(100.0 * e.getValue() / answered))
            .append('%');
      }
    }
    return new Verdict(
        s,
        s.allows(percent),
        String.format(
            Locale.ROOT,
            "%s %d of %d (%.1f%%)%s",
            s.node(),
            mine,
            answered,
            percent,
            others.length() == 0 ? "" : "; " + others));
  }

  private static Verdict throughput(
      Scenario.Throughput t, List<History.Request> requests, long runMs) {
    Rate rate = rate(t.window(), requests, runMs);
    if (t.baseline().isEmpty()) {
      return new Verdict(t, rate.perSecond() >= 0 && t.allows(rate.perSecond()), rate.words());
    }
    Rate base = rate(t.baseline().get(), requests, runMs);
    if (rate.perSecond() < 0 || base.perSecond() <= 0) {
      return new Verdict(
          t, false, rate.words() + "; baseline " + base.words() + ": no ratio to compare");
    }
    double ratio = rate.perSecond() / base.perSecond();
    return new Verdict(
        t,
        t.allows(ratio),
        String.format(Locale.ROOT, "%.2fx: %s, against %s", ratio, rate.words(), base.words()));
  }

  /** A window's throughput (-1 for a window past the run's end), and how it was counted. */
  private record Rate(double perSecond, String words) {}

  /**
   * Requests sent in the window and answered (ok or wrong), per second of the window (cut at the
   * run's end).
   */
  private static Rate rate(Scenario.Window w, List<History.Request> requests, long runMs) {
    long from = w.from().toMillis();
    long to = Math.min(w.to().toMillis(), runMs);
    if (to <= from) {
      return new Rate(-1, "the window is past the run's end");
    }
    long sent = 0;
    long answered = 0;
    for (History.Request r : requests) {
      if (w.contains(r.sentMs())) {
        sent++;
        answered += r.outcome() == Outcome.FAILED ? 0 : 1;
      }
    }
    double perSecond = answered * 1000.0 / (to - from);
    return new Rate(
        perSecond,
        String.format(
            Locale.ROOT,
            "%.1f/s (%d answered of %d sent in %s)",
            perSecond,
            answered,
            sent,
            Durations.words(java.time.Duration.ofMillis(to - from))));
  }

  private static Verdict refused(Scenario.Refused r, List<History.Refusal> refusals) {
    java.util.Map<String, Long> byCoordinator = new java.util.TreeMap<>();
    Optional<History.Refusal> first = Optional.empty();
    for (History.Refusal x : refusals) {
      if (x.layer().equals(r.by())
          && r.window().contains(x.atMs())
          && r.coordinator().map(c -> c.equals(x.coordinator())).orElse(true)) {
        byCoordinator.merge(x.coordinator(), x.count(), Long::sum);
        if (first.isEmpty()) {
          first = Optional.of(x);
        }
      }
    }
    long total = byCoordinator.values().stream().mapToLong(Long::longValue).sum();
    StringBuilder figures = new StringBuilder(total + " refused by " + r.by());
    if (!byCoordinator.isEmpty()) {
      StringBuilder each = new StringBuilder();
      byCoordinator.forEach(
          (c, n) -> each.append(each.length() == 0 ? "" : ", ").append(c).append(' ').append(n));
      figures.append(" (").append(each).append(')');
    }
    first.ifPresent(
        f ->
            figures
                .append("; the first seen at ")
                .append(seconds(f.atMs()))
                .append(" at ")
                .append(f.coordinator())
                .append(f.latest().isEmpty() ? "" : ": " + f.latest()));
    return new Verdict(r, r.allows(total), figures.toString());
  }

  private static Verdict stateWithin(
      StateWithin s,
      List<History.Action> actions,
      List<History.Transition> transitions,
      List<History.Request> requests) {
    Optional<History.Action> action =
        actions.stream().filter(a -> a.name().equals(s.afterAction())).findFirst();
    if (action.isEmpty()) {
      return new Verdict(s, false, s.afterAction() + " never ran");
    }
    long from = action.get().atMs();
    TreeSet<String> coordinators = new TreeSet<>();
    if (s.coordinator().isPresent()) {
      coordinators.add(s.coordinator().get());
    } else {
      transitions.forEach(t -> coordinators.add(t.coordinator()));
    }
    if (coordinators.isEmpty()) {
      return new Verdict(s, false, "the history has no membership transition at all");
    }
    List<String> figures = new ArrayList<>();
    boolean met = true;
    for (String c : coordinators) {
      Optional<History.Transition> first =
          transitions.stream()
              .filter(
                  t ->
                      t.coordinator().equals(c)
                          && t.node().equals(s.node())
                          && t.to().equals(s.state().name())
                          && t.atMs() >= from)
              .findFirst();
      if (first.isEmpty()) {
        met = false;
        figures.add(c + ": never");
      } else if (s.votes() >= 0) {
        // the node's votes this coordinator counted, on requests sent between the action and
        // the transition (a vote still being decided then may count too)
        long to = first.get().atMs();
        long votes = 0;
        long outvoted = 0;
        long voted = 0; // requests decided by a vote at all: none, and votes cannot be counted
        for (History.Request r : requests) {
          if (c.equals(r.coordinator()) && r.sentMs() >= from && r.sentMs() <= to) {
            voted += r.voters() == null ? 0 : 1;
            if (r.voted(s.node())) {
              votes++;
              outvoted += r.outvoted(s.node()) ? 1 : 0;
            }
          }
        }
        if (voted == 0) {
          met = false;
          figures.add(
              c
                  + ": no request through it was decided by a vote between "
                  + s.afterAction()
                  + " and the transition ("
                  + (to - from)
                  + " ms): no votes to count");
          continue;
        }
        met &= votes <= s.votes();
        figures.add(
            String.format(
                Locale.ROOT,
                "%s: after %d vote%s (%d outvoted), %d ms",
                c,
                votes,
                votes == 1 ? "" : "s",
                outvoted,
                to - from));
      } else {
        long after = first.get().atMs() - from;
        met &= after <= s.within().toMillis();
        figures.add(c + ": after " + after + " ms");
      }
    }
    return new Verdict(s, met, String.join(", ", figures));
  }

  private static String seconds(long ms) {
    return String.format(Locale.ROOT, "%.1f s", ms / 1e3);
  }
}
