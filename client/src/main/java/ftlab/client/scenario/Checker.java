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
    List<History.Sample> samples = new ArrayList<>();
    List<History.Load> loads = new ArrayList<>();
    for (History.Event e : events) {
      if (e instanceof History.Request r) {
        requests.add(r);
      } else if (e instanceof History.Action a) {
        actions.add(a);
      } else if (e instanceof History.Transition t) {
        transitions.add(t);
      } else if (e instanceof History.Refusal r) {
        refusals.add(r);
      } else if (e instanceof History.Sample p) {
        samples.add(p);
      } else if (e instanceof History.Load l) {
        loads.add(l);
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
      } else if (x instanceof Scenario.Lost l) {
        verdicts.add(lost(l, requests, loads));
      } else if (x instanceof Scenario.FalseDeaths f) {
        verdicts.add(falseDeaths(f, actions, transitions));
      } else if (x instanceof Scenario.Steady st) {
        verdicts.add(steady(st, samples, scenario.duration().toMillis()));
      } else if (x instanceof Scenario.Settled st) {
        verdicts.add(settled(st, transitions));
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

  private static Verdict lost(
      Scenario.Lost l, List<History.Request> requests, List<History.Load> loads) {
    if (loads.isEmpty()) {
      return new Verdict(l, false, "the history does not say how many requests were sent");
    }
    long sent = loads.get(loads.size() - 1).sent();
    java.util.Set<Long> ids = new java.util.HashSet<>();
    requests.forEach(r -> ids.add(r.id()));
    long lost = Math.max(0, sent - ids.size());
    return new Verdict(
        l,
        lost <= l.atMost(),
        sent + " sent, " + ids.size() + " ended" + (lost > 0 ? ", " + lost + " never did" : ""));
  }

  /** The verbs that break a member, and those that undo them. */
  private static final java.util.Set<String> BREAK =
      java.util.Set.of("kill", "stop", "pause", "fault", "disconnect", "revoke");

  private static final java.util.Set<String> MEND =
      java.util.Set.of("start", "unpause", "heal", "connect", "unrevoke");

  /**
   * Each member's time under the timeline's actions: from a breaking action to the end of the one
   * that undoes it (its effect seen, or begun if not seen), or to the end of the run.
   */
  static java.util.Map<String, List<long[]>> brokenSpans(List<History.Action> actions) {
    java.util.Map<String, List<long[]>> spans = new java.util.HashMap<>();
    java.util.Map<String, Long> since = new java.util.HashMap<>();
    for (History.Action a :
        actions.stream()
            .sorted(java.util.Comparator.comparingLong(History.Action::atMs))
            .toList()) {
      if (a.target() == null || a.target().isEmpty()) {
        continue;
      }
      if (BREAK.contains(a.verb())) {
        since.putIfAbsent(a.target(), a.atMs());
      } else if (MEND.contains(a.verb()) && since.containsKey(a.target())) {
        long end = Math.max(a.atMs(), a.confirmedMs());
        spans
            .computeIfAbsent(a.target(), k -> new ArrayList<>())
            .add(new long[] {since.remove(a.target()), end});
      }
    }
    since.forEach(
        (m, from) ->
            spans
                .computeIfAbsent(m, k -> new ArrayList<>())
                .add(new long[] {from, Long.MAX_VALUE}));
    return spans;
  }

  private static boolean broken(
      java.util.Map<String, List<long[]>> spans, String member, long from, long to) {
    for (long[] s : spans.getOrDefault(member, List.of())) {
      if (s[0] <= to && s[1] >= from) {
        return true;
      }
    }
    return false;
  }

  private static Verdict falseDeaths(
      Scenario.FalseDeaths f, List<History.Action> actions, List<History.Transition> transitions) {
    java.util.Map<String, List<long[]>> spans = brokenSpans(actions);
    List<History.Transition> deaths = new ArrayList<>();
    long suspicions = 0;
    long excused = 0;
    for (History.Transition t : transitions) {
      boolean dead = t.to().equals("DEAD");
      if (!dead && !t.to().equals("SUSPECT")) {
        continue;
      }
      long from = t.atMs() - f.grace().toMillis();
      if (broken(spans, t.node(), from, t.atMs())
          || broken(spans, t.coordinator(), from, t.atMs())) {
        excused += dead ? 1 : 0;
      } else if (dead) {
        deaths.add(t);
      } else {
        suspicions++;
      }
    }
    StringBuilder figures =
        new StringBuilder(
            deaths.size()
                + " false "
                + (deaths.size() == 1 ? "death" : "deaths")
                + ", "
                + suspicions
                + " false "
                + (suspicions == 1 ? "suspicion" : "suspicions")
                + " (SUSPECT), "
                + excused
                + " DEAD under a fault");
    if (!deaths.isEmpty()) {
      History.Transition d = deaths.get(0);
      figures
          .append("; the first: ")
          .append(d.node())
          .append(" DEAD at ")
          .append(d.coordinator())
          .append(" at ")
          .append(seconds(d.atMs()))
          .append(" (")
          .append(d.reason())
          .append(')');
    }
    return new Verdict(f, deaths.size() <= f.atMost(), figures.toString());
  }

  private static Verdict steady(Scenario.Steady s, List<History.Sample> samples, long runMs) {
    java.util.Map<String, List<History.Sample>> lives = new java.util.TreeMap<>();
    for (History.Sample p : samples) {
      lives.computeIfAbsent(p.member() + " (PID " + p.pid() + ")", k -> new ArrayList<>()).add(p);
    }
    List<String> judged = new ArrayList<>();
    java.util.Set<String> shortLived = new java.util.TreeSet<>();
    String worstMemory = "";
    double worstGrowth = Double.NEGATIVE_INFINITY;
    String worstThreads = "";
    long worstThreadGrowth = Long.MIN_VALUE;
    List<String> over = new ArrayList<>();
    for (var life : lives.entrySet()) {
      List<History.Sample> all = life.getValue();
      String member = all.get(0).member();
      long span = all.get(all.size() - 1).atMs() - all.get(0).atMs();
      List<History.Sample> after =
          all.stream().filter(p -> p.atMs() >= all.get(0).atMs() + s.warmup().toMillis()).toList();
      if (span < runMs / 2 || after.size() < 6) {
        shortLived.add(member);
        continue;
      }
      int third = after.size() / 3;
      List<History.Sample> first = after.subList(0, third);
      List<History.Sample> last = after.subList(after.size() - third, after.size());
      long memFirst = medianRss(first);
      long memLast = medianRss(last);
      double growth = 100.0 * (memLast - memFirst) / Math.max(1, memFirst);
      // medians, as for memory: a leak moves them; a moment's spike (a JIT compiler thread, a
      // container's health check running as it is sampled: +7 in one sample of a compose soak)
      // does not
      int threadsFirst = medianThreads(first);
      int threadsLast = medianThreads(last);
      long threadGrowth = threadsLast - threadsFirst;
      judged.add(member);
      String memWords =
          String.format(
              Locale.ROOT,
              "%s memory %+.0f%% (%d -> %d MB)",
              member,
              growth,
              memFirst / 1024,
              memLast / 1024);
      String threadWords =
          String.format(
              Locale.ROOT,
              "%s threads %+d (%d -> %d)",
              member,
              threadGrowth,
              threadsFirst,
              threadsLast);
      if (growth > worstGrowth) {
        worstGrowth = growth;
        worstMemory = memWords;
      }
      if (threadGrowth > worstThreadGrowth) {
        worstThreadGrowth = threadGrowth;
        worstThreads = threadWords;
      }
      if (growth > s.memoryPercent()) {
        over.add(memWords);
      }
      if (threadGrowth > s.threads()) {
        over.add(threadWords);
      }
    }
    shortLived.removeAll(judged);
    if (judged.isEmpty()) {
      return new Verdict(
          s,
          false,
          "no process was sampled for half the run or more"
              + (samples.isEmpty() ? " (no samples in the history)" : ""));
    }
    String figures =
        judged.size()
            + " processes lived half the run or more; most grown: "
            + worstMemory
            + ", "
            + worstThreads
            + (over.isEmpty() ? "" : "; over: " + String.join(", ", over))
            + (shortLived.isEmpty()
                ? ""
                : "; not judged (lived less than half the run): " + String.join(", ", shortLived));
    return new Verdict(s, over.isEmpty(), figures);
  }

  private static int medianThreads(List<History.Sample> samples) {
    int[] threads = samples.stream().mapToInt(History.Sample::threads).sorted().toArray();
    return threads[threads.length / 2];
  }

  private static long medianRss(List<History.Sample> samples) {
    long[] rss = samples.stream().mapToLong(History.Sample::rssKb).sorted().toArray();
    return rss[rss.length / 2];
  }

  /**
   * Every node ALIVE at every coordinator at the end, but for those that had left before the run
   * (LEFT at the first look and never back: the compose lab's pool after lab 7 scaled it in).
   */
  private static Verdict settled(Scenario.Settled s, List<History.Transition> transitions) {
    java.util.Map<String, java.util.Map<String, History.Transition>> last =
        new java.util.TreeMap<>();
    java.util.Map<String, java.util.Set<String>> seenOtherwise = new java.util.HashMap<>();
    for (History.Transition t : transitions) {
      last.computeIfAbsent(t.coordinator(), k -> new java.util.TreeMap<>()).put(t.node(), t);
      if (!(t.from().isEmpty() && t.to().equals("LEFT"))) {
        seenOtherwise
            .computeIfAbsent(t.coordinator(), k -> new java.util.HashSet<>())
            .add(t.node());
      }
    }
    if (last.isEmpty()) {
      return new Verdict(s, false, "the history has no membership transition at all");
    }
    List<String> not = new ArrayList<>();
    java.util.Set<String> goneBefore = new java.util.TreeSet<>();
    int alive = 0;
    for (var c : last.entrySet()) {
      for (History.Transition t : c.getValue().values()) {
        if (!seenOtherwise.getOrDefault(c.getKey(), java.util.Set.of()).contains(t.node())) {
          goneBefore.add(t.node());
        } else if (t.to().equals("ALIVE")) {
          alive++;
        } else {
          not.add(t.node() + " " + t.to() + " at " + c.getKey() + " since " + seconds(t.atMs()));
        }
      }
    }
    return new Verdict(
        s,
        not.isEmpty(),
        (not.isEmpty()
                ? alive + " node states ALIVE at " + last.size() + " coordinators"
                : String.join(", ", not))
            + (goneBefore.isEmpty()
                ? ""
                : " (not counted: " + String.join(", ", goneBefore) + ", LEFT before the run)"));
  }

  private static String seconds(long ms) {
    return String.format(Locale.ROOT, "%.1f s", ms / 1e3);
  }
}
