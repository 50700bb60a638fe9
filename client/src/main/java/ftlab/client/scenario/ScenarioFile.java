package ftlab.client.scenario;

import ftlab.client.DurationConverter;
import ftlab.client.scenario.Scenario.Action;
import ftlab.client.scenario.Scenario.Expectation;
import ftlab.client.scenario.Scenario.Verb;
import ftlab.client.scenario.Scenario.Window;
import ftlab.proto.NodeState;
import java.io.StringReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a scenario file (YAML) into a {@link Scenario}, or fails with every mistake in it, each as
 * "FILE line N: what is wrong". The file is read as SnakeYAML's node tree (which knows each value's
 * line) and checked here, field by field: unknown keys, missing ones, wrong types, an action after
 * the end, an expectation about an action that does not exist.
 *
 * <pre>
 * name: a node is killed
 * target: local            # local (starts its own cluster) or compose (the lab, already up)
 * cluster: {nodes: 5, coordinators: 2}
 * load: {rate: 20, concurrency: 4, task: mix, mode: failover}
 * duration: 40s
 * timeline:
 *   - {at: 10s, do: kill, target: node-3, name: kill-3}
 *   - {at: 25s, do: start, target: node-3}
 * expect:
 *   - failed: 0
 *   - wrong: 0
 *   - p99: {below: 2s, from: 10s, to: 25s}
 *   - state: {node: node-3, becomes: DEAD, within: 1s, after: kill-3}
 * </pre>
 */
public final class ScenarioFile {
  private ScenarioFile() {}

  /** A file with mistakes: every one of them, in the order of the file. */
  public static final class Invalid extends Exception {
    private final List<String> errors;

    Invalid(List<String> errors) {
      super(String.join("\n", errors));
      this.errors = List.copyOf(errors);
    }

    public List<String> errors() {
      return errors;
    }
  }

  /** {@code within: 5 votes}. */
  private static final Pattern VOTES =
      Pattern.compile("([0-9]{1,9})\\s*votes?", Pattern.CASE_INSENSITIVE);

  private static final Pattern MEMBER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  /** The compose lab's named members (docker-compose.yml), for "any node" there. */
  static final int COMPOSE_NODES = 5;

  static final int COMPOSE_COORDINATORS = 2;
  private static final Set<String> TOP =
      Set.of(
          "name",
          "description",
          "target",
          "cluster",
          "seed",
          "load",
          "duration",
          "timeline",
          "expect");

  /** How long after an action's undoing a node's death may still be its doing (false deaths). */
  static final Duration DEFAULT_GRACE = Duration.ofSeconds(3);

  private static final Set<String> FAULTS = Set.of("freeze", "mute", "slow", "lie", "crash");
  private static final Set<String> MODES = Set.of("failover", "hedged", "parallel", "vote");
  private static final Set<String> TASKS = Set.of("mix", "primes", "echo");
  private static final List<String> ATTACKS = List.of("impersonate", "switch-mode");

  /** An attacker with no certificate: a plaintext caller. */
  static final String NO_CERTIFICATE = "no certificate";

  /** An attacker with an admin's certificate from an authority of its own. */
  static final String SELF_MADE = "self-made";

  /**
   * Reads {@code text}, the file called {@code source} (for the messages).
   *
   * @throws Invalid with every mistake found
   */
  public static Scenario parse(String source, String text) throws Invalid {
    return new Reader(source).read(text);
  }

  private static final class Reader {
    private final String source;

    /** Each mistake with its line: reported in the order of the file. */
    private final List<Map.Entry<Integer, String>> errors = new ArrayList<>();

    Reader(String source) {
      this.source = source;
    }

    /** "any node" and "any coordinator": one member each, chosen with the seed. */
    private final Map<String, String> choices = new LinkedHashMap<>();

    /** Which of the choices the file used, for the plan. */
    private final Map<String, String> picks = new LinkedHashMap<>();

    /** A member's name as written, with "any node" / "any coordinator" replaced by the pick. */
    private String member(String written) {
      String out = written;
      for (Map.Entry<String, String> c : choices.entrySet()) {
        // as words: "many nodes" is not "any node"
        Pattern any = Pattern.compile("(?<![\\w-])" + Pattern.quote(c.getKey()) + "(?![\\w-])");
        java.util.regex.Matcher m = any.matcher(out);
        if (m.find()) {
          out = m.replaceAll(java.util.regex.Matcher.quoteReplacement(c.getValue()));
          picks.put(c.getKey(), c.getValue());
        }
      }
      return out;
    }

    Scenario read(String text) throws Invalid {
      Node root;
      try {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(10);
        root = new Yaml(new SafeConstructor(options)).compose(new StringReader(text));
      } catch (MarkedYAMLException e) {
        int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
        throw new Invalid(List.of(source + " line " + line + ": not YAML: " + e.getProblem()));
      } catch (RuntimeException e) {
        throw new Invalid(List.of(source + ": not YAML: " + e.getMessage()));
      }
      if (!(root instanceof MappingNode top)) {
        throw new Invalid(
            List.of(
                source
                    + (root == null ? "" : " line " + line(root))
                    + ": a scenario is a mapping (name:, duration:, timeline:, expect: ...)"));
      }
      Map<String, Node> fields = mapping(top, TOP);
      required(top, fields, "name", "one line that says what the scenario shows");
      String name = text(fields.get("name"), "name", true);
      String description = text(fields.get("description"), "description", false);
      Scenario.Target target = Scenario.Target.LOCAL;
      Node targetNode = fields.get("target");
      if (targetNode != null) {
        String t = text(targetNode, "target", true);
        switch (t) {
          case "local" -> target = Scenario.Target.LOCAL;
          case "compose" -> target = Scenario.Target.COMPOSE;
          default -> error(targetNode, "target must be local or compose, got '" + t + "'");
        }
      }
      int nodes = 5;
      int coordinators = 2;
      boolean tls = false;
      Node clusterNode = fields.get("cluster");
      if (clusterNode != null && target == Scenario.Target.COMPOSE) {
        error(
            clusterNode,
            "cluster is for target: local; the compose lab has the members docker-compose.yml"
                + " gives it (scale the pool with a scale action)");
      }
      if (clusterNode != null) {
        Map<String, Node> c = mapping(clusterNode, Set.of("nodes", "coordinators", "tls"));
        nodes = (int) number(c.get("nodes"), "cluster.nodes", 1, 50, 5);
        coordinators = (int) number(c.get("coordinators"), "cluster.coordinators", 1, 9, 2);
        if (c.get("tls") != null) {
          String t = text(c.get("tls"), "cluster.tls", true);
          if (!t.equals("true") && !t.equals("false")) {
            error(c.get("tls"), "cluster.tls must be true or false, got '" + t + "'");
          }
          tls = t.equals("true");
        }
      }
      long seed = number(fields.get("seed"), "seed", Long.MIN_VALUE, Long.MAX_VALUE, 1);
      Scenario.Load load = load(fields.get("load"));
      Duration duration = Duration.ZERO;
      Node durationNode = fields.get("duration");
      if (durationNode == null) {
        error(top, "duration is missing: how long the load runs (e.g. 40s)");
      } else {
        duration = duration(durationNode, "duration");
        if (duration.compareTo(Duration.ofSeconds(1)) < 0
            || duration.compareTo(Duration.ofHours(4)) > 0) {
          error(durationNode, "duration must be between 1 s and 4 h");
        }
      }
      // a seeded choice: the same file and seed pick the same member, run after run
      java.util.Random random = new java.util.Random(seed);
      int nodeCount = target == Scenario.Target.COMPOSE ? COMPOSE_NODES : nodes;
      int coordinatorCount =
          target == Scenario.Target.COMPOSE ? COMPOSE_COORDINATORS : coordinators;
      choices.put("any node", "node-" + (1 + random.nextInt(Math.max(1, nodeCount))));
      choices.put(
          "any coordinator", "coordinator-" + (1 + random.nextInt(Math.max(1, coordinatorCount))));
      List<Action> timeline = timeline(fields.get("timeline"), duration);
      for (Action a : timeline) {
        if (a.verb() == Verb.SCALE) {
          boolean compose = target == Scenario.Target.COMPOSE;
          if (compose && a.args().containsKey("nodes")) {
            error(
                a.line(),
                "the compose lab scales its pool service (pool: N, the nodes beyond node-1 to"
                    + " node-5); nodes: N is for a local cluster");
          } else if (!compose && a.args().containsKey("pool")) {
            error(
                a.line(),
                "a local cluster has no pool service: scale it with nodes: N (the nodes it has"
                    + " after)");
          }
        }
      }
      if (target == Scenario.Target.COMPOSE) {
        for (Action a : timeline) {
          if (a.verb() == Verb.ATTACK || a.verb() == Verb.REVOKE || a.verb() == Verb.UNREVOKE) {
            error(
                a.line(),
                a.verb().word()
                    + " runs on a local cluster (target: local; revoke needs cluster: {tls:"
                    + " true}); in the compose lab, docker/journey-tls.sh shows the defences");
          }
        }
      }
      if (load.mode().isPresent()) {
        for (Action a : timeline) {
          if (a.verb() == Scenario.Verb.MODE) {
            // each request names its mode, and a request's own mode wins over the coordinator's
            error(
                a.line(),
                "the mode action changes nothing: load.mode ("
                    + load.mode().get()
                    + ") makes every request ask for its own mode, which wins over the"
                    + " coordinators'; leave load.mode out (the coordinators' own mode"
                    + " applies)");
          }
        }
      }
      List<Expectation> expectations =
          expectations(fields.get("expect"), timeline, duration, target);
      if (!errors.isEmpty()) {
        errors.sort(Map.Entry.comparingByKey()); // stable: one line's mistakes keep their order
        throw new Invalid(errors.stream().map(Map.Entry::getValue).toList());
      }
      return new Scenario(
          name,
          description,
          target,
          nodes,
          coordinators,
          tls,
          seed,
          load,
          duration,
          timeline,
          expectations,
          text,
          Map.copyOf(picks));
    }

    private Scenario.Load load(Node node) {
      if (node == null) {
        return new Scenario.Load(20, 4, "mix", Optional.empty(), 0, Scenario.Load.ECHO_MS);
      }
      Map<String, Node> l =
          mapping(node, Set.of("rate", "concurrency", "task", "mode", "replicas", "echo"));
      double rate = decimal(l.get("rate"), "load.rate", 0, 100_000, 20);
      int concurrency = (int) number(l.get("concurrency"), "load.concurrency", 1, 1_000, 4);
      String task = "mix";
      if (l.get("task") != null) {
        task = text(l.get("task"), "load.task", true);
        if (!TASKS.contains(task)) {
          error(l.get("task"), "load.task must be mix, primes or echo, got '" + task + "'");
        }
      }
      Optional<String> mode = Optional.empty();
      if (l.get("mode") != null) {
        String m = text(l.get("mode"), "load.mode", true);
        if (!MODES.contains(m)) {
          error(
              l.get("mode"),
              "load.mode must be failover, hedged, parallel or vote, got '" + m + "'");
        }
        mode = Optional.of(m);
      }
      int replicas = (int) number(l.get("replicas"), "load.replicas", 0, 9, 0);
      int echoMs = Scenario.Load.ECHO_MS;
      if (l.get("echo") != null) {
        Duration echo = duration(l.get("echo"), "load.echo");
        if (echo.toMillis() > ftlab.task.Tasks.MAX_ECHO_DELAY_MS) {
          error(
              l.get("echo"),
              "load.echo must be at most "
                  + Durations.words(Duration.ofMillis(ftlab.task.Tasks.MAX_ECHO_DELAY_MS))
                  + ", got "
                  + Durations.words(echo));
        }
        if (task.equals("primes")) {
          error(l.get("echo"), "load.echo is the echo tasks' longest wait: task primes has none");
        }
        echoMs = (int) Math.min(echo.toMillis(), ftlab.task.Tasks.MAX_ECHO_DELAY_MS);
      }
      return new Scenario.Load(rate, concurrency, task, mode, replicas, echoMs);
    }

    private List<Action> timeline(Node node, Duration duration) {
      List<Action> actions = new ArrayList<>();
      if (node == null) {
        return actions;
      }
      if (!(node instanceof SequenceNode seq)) {
        error(node, "timeline is a list of actions (- {at: 10s, do: kill, target: node-3})");
        return actions;
      }
      Set<String> names = new HashSet<>();
      for (Node item : seq.getValue()) {
        Map<String, Node> a =
            mapping(
                item,
                Set.of(
                    "at",
                    "do",
                    "target",
                    "name",
                    "fault",
                    "delay",
                    "fraction",
                    "mode",
                    "replicas",
                    "pool",
                    "nodes",
                    "attack",
                    "as"));
        if (a.isEmpty()) {
          continue;
        }
        Duration at = Duration.ZERO;
        if (a.get("at") == null) {
          error(item, "an action needs at: its time from the start (e.g. 10s)");
        } else {
          at = duration(a.get("at"), "at");
          if (!duration.isZero() && at.compareTo(duration) >= 0) {
            error(
                a.get("at"),
                "at "
                    + Durations.words(at)
                    + " is not before the end of the run ("
                    + Durations.words(duration)
                    + ")");
          }
        }
        Verb verb = null;
        if (a.get("do") == null) {
          error(item, "an action needs do: one of " + verbs());
        } else {
          String word = text(a.get("do"), "do", true);
          try {
            verb = Verb.valueOf(word.toUpperCase(Locale.ROOT));
          } catch (IllegalArgumentException e) {
            error(a.get("do"), "do: '" + word + "' is not an action; one of " + verbs());
          }
        }
        if (verb == null) {
          continue;
        }
        String target = "";
        if (verb.needsTarget()) {
          if (a.get("target") == null) {
            error(item, verb.word() + " needs target: the node or coordinator (e.g. node-3)");
          } else {
            target = member(text(a.get("target"), "target", true));
            if (!MEMBER.matcher(target).matches()) {
              error(a.get("target"), "target '" + target + "' is not a member's name");
            }
          }
        } else if (a.get("target") != null) {
          error(a.get("target"), verb.word() + " takes no target: it acts on every coordinator");
        }
        Map<String, String> args = args(verb, a, item);
        String name =
            a.get("name") != null
                ? member(text(a.get("name"), "name", true))
                : verb == Verb.ATTACK && args.containsKey("as") // two attacks on one member differ
                    ? new Action(0, "", at, verb, target, args).describe()
                    : verb.word() + (target.isEmpty() ? "" : " " + target);
        if (!names.add(name)) {
          error(
              a.get("name") == null ? item : a.get("name"),
              "two actions are called '"
                  + name
                  + "': give one a name: (expectations refer to actions by name)");
        }
        actions.add(new Action(line(item), name, at, verb, target, args));
      }
      // in the order they happen, whatever the order of the file (stable: same times keep theirs)
      actions.sort(java.util.Comparator.comparing(Action::at));
      return actions;
    }

    /** The settings a verb takes, and only those. */
    private Map<String, String> args(Verb verb, Map<String, Node> a, Node item) {
      Map<String, String> args = new LinkedHashMap<>();
      Set<String> allowed =
          switch (verb) {
            case FAULT -> Set.of("fault", "delay", "fraction");
            case MODE -> Set.of("mode", "replicas");
            case SCALE -> Set.of("pool", "nodes");
            case ATTACK -> Set.of("attack", "as");
            default -> Set.of();
          };
      for (String key :
          List.of(
              "fault", "delay", "fraction", "mode", "replicas", "pool", "nodes", "attack", "as")) {
        if (a.get(key) != null && !allowed.contains(key)) {
          error(a.get(key), verb.word() + " takes no " + key + ":");
        }
      }
      switch (verb) {
        case FAULT -> {
          if (a.get("fault") == null) {
            error(item, "fault needs fault: one of " + String.join(", ", sorted(FAULTS)));
          } else {
            String f = text(a.get("fault"), "fault", true);
            if (!FAULTS.contains(f)) {
              error(
                  a.get("fault"),
                  "fault: '" + f + "' is not one of " + String.join(", ", sorted(FAULTS)));
            }
            args.put("fault", f);
          }
          if (a.get("delay") != null) {
            Duration delay = duration(a.get("delay"), "delay");
            if (delay.toMillis() > 60_000) {
              error(a.get("delay"), "delay must be at most 60 s, got " + Durations.words(delay));
            }
            args.put("delay_ms", String.valueOf(delay.toMillis()));
          }
          if (a.get("fraction") != null) {
            args.put("fraction", String.valueOf(decimal(a.get("fraction"), "fraction", 0, 1, 1)));
          }
        }
        case MODE -> {
          if (a.get("mode") == null) {
            error(item, "mode needs mode: failover, hedged, parallel or vote");
          } else {
            String m = text(a.get("mode"), "mode", true);
            if (!MODES.contains(m)) {
              error(a.get("mode"), "mode: '" + m + "' is not failover, hedged, parallel or vote");
            }
            args.put("mode", m);
          }
          if (a.get("replicas") != null) {
            args.put("replicas", String.valueOf(number(a.get("replicas"), "replicas", 1, 9, 3)));
          }
        }
        case ATTACK -> attack(a, item, args);
        case SCALE -> {
          if (a.get("pool") == null && a.get("nodes") == null) {
            error(
                item,
                "scale needs nodes: the number of nodes after (local, e.g. 3) or pool: the"
                    + " number of pool nodes (compose, e.g. 2)");
          } else if (a.get("pool") != null && a.get("nodes") != null) {
            error(item, "scale takes nodes: (local) or pool: (compose), not both");
          } else if (a.get("pool") != null) {
            args.put("pool", String.valueOf(number(a.get("pool"), "pool", 0, 20, 0)));
          } else {
            args.put(
                "nodes",
                String.valueOf(
                    number(
                        a.get("nodes"), "nodes", 1, ftlab.client.local.LocalCluster.MAX_NODES, 1)));
          }
        }
        default -> {}
      }
      return args;
    }

    /**
     * An attack's settings: what it tries ({@code impersonate} a node with heartbeats in its name,
     * or {@code switch-mode} at a coordinator) and with what ({@code as}: a certificate of the
     * lab's by its name, {@code no certificate}, or {@code self-made}: an admin's certificate from
     * an authority of the attacker's own).
     */
    private void attack(Map<String, Node> a, Node item, Map<String, String> args) {
      if (a.get("attack") == null) {
        error(item, "attack needs attack: one of " + String.join(", ", ATTACKS));
        return;
      }
      String kind = text(a.get("attack"), "attack", true);
      if (!ATTACKS.contains(kind)) {
        error(
            a.get("attack"), "attack: '" + kind + "' is not one of " + String.join(", ", ATTACKS));
        return;
      }
      args.put("attack", kind);
      String target = a.get("target") == null ? "" : member(text(a.get("target"), "target", false));
      if (kind.equals("impersonate") && !target.isEmpty() && !target.startsWith("node-")) {
        error(a.get("target"), "impersonate's target is the node whose id is claimed (node-N)");
      }
      if (kind.equals("switch-mode") && !target.isEmpty() && !target.startsWith("coordinator-")) {
        error(a.get("target"), "switch-mode's target is the coordinator (coordinator-N)");
      }
      if (a.get("as") == null) { // another node's certificate, or the client's
        args.put(
            "as",
            kind.equals("switch-mode") ? "client" : target.equals("node-1") ? "node-2" : "node-1");
        return;
      }
      String as = member(text(a.get("as"), "as", true));
      boolean named = MEMBER.matcher(as).matches();
      if (!named && !as.equals(NO_CERTIFICATE) && !as.equals(SELF_MADE)) {
        error(
            a.get("as"),
            "as: '"
                + as
                + "' is not a certificate's name (node-3, client), '"
                + NO_CERTIFICATE
                + "' or '"
                + SELF_MADE
                + "'");
      } else if (kind.equals("impersonate") && !as.startsWith("node-")) {
        error(a.get("as"), "impersonate is done with a node's certificate (as: node-N)");
      } else if (as.equals(target)) {
        error(a.get("as"), "as: " + as + " is the target itself: that is no attack");
      }
      args.put("as", as);
    }

    private List<Expectation> expectations(
        Node node, List<Action> timeline, Duration duration, Scenario.Target target) {
      List<Expectation> out = new ArrayList<>();
      if (node == null) {
        return out;
      }
      if (!(node instanceof SequenceNode seq)) {
        error(node, "expect is a list (- failed: 0)");
        return out;
      }
      Set<String> actions = new HashSet<>();
      timeline.forEach(a -> actions.add(a.name()));
      for (Node item : seq.getValue()) {
        Map<String, Node> e =
            mapping(
                item,
                Set.of(
                    "failed",
                    "wrong",
                    "p50",
                    "p90",
                    "p99",
                    "max",
                    "state",
                    "share",
                    "refused",
                    "throughput",
                    "lost",
                    "false deaths",
                    "steady",
                    "settled"));
        if (e.size() != 1) {
          if (!e.isEmpty()) {
            error(item, "one expectation per list item, found " + String.join(", ", e.keySet()));
          }
          continue;
        }
        String kind = e.keySet().iterator().next();
        Node v = e.get(kind);
        switch (kind) {
          case "failed", "wrong" -> {
            Scenario.Outcome outcome =
                kind.equals("failed") ? Scenario.Outcome.FAILED : Scenario.Outcome.WRONG;
            if (v instanceof ScalarNode) {
              out.add(
                  Scenario.Count.atMost(
                      line(item), outcome, number(v, kind, 0, Long.MAX_VALUE, 0)));
              continue;
            }
            Map<String, Node> c = mapping(v, Set.of("at most", "at least", "from", "to"));
            if (!(v instanceof MappingNode)) {
              continue; // mapping() said what is wrong
            }
            Optional<long[]> bounds = bounds(v, c, kind);
            if (bounds.isEmpty()) {
              continue;
            }
            out.add(
                new Scenario.Count(
                    line(item), outcome, bounds.get()[0], bounds.get()[1], window(v, c, duration)));
          }
          case "p50", "p90", "p99", "max" -> {
            Map<String, Node> p = mapping(v, Set.of("below", "from", "to"));
            if (p.get("below") == null) {
              error(v, kind + " needs below: the bound (e.g. 500ms)");
              continue;
            }
            Window window = window(v, p, duration);
            double percentile = kind.equals("max") ? 100 : Double.parseDouble(kind.substring(1));
            out.add(
                new Scenario.Percentile(
                    line(item), percentile, duration(p.get("below"), "below"), window));
          }
          case "share" -> {
            Map<String, Node> c = mapping(v, Set.of("node", "at most", "at least", "from", "to"));
            if (!(v instanceof MappingNode)) {
              continue; // mapping() said what is wrong
            }
            required(v, c, "node", "the node whose share is expected (e.g. node-2)");
            if (c.get("at most") == null && c.get("at least") == null) {
              error(v, "share needs at most: N%, at least: N% or both");
              continue;
            }
            double most = c.get("at most") == null ? 100 : percent(c.get("at most"), "at most");
            double least = c.get("at least") == null ? 0 : percent(c.get("at least"), "at least");
            if (least > most) {
              error(v, "at least " + least + "% is more than at most " + most + "%");
            }
            out.add(
                new Scenario.Share(
                    line(item),
                    member(text(c.get("node"), "share.node", true)),
                    least,
                    most,
                    window(v, c, duration)));
          }
          case "throughput" -> {
            Map<String, Node> t =
                mapping(v, Set.of("at least", "at most", "from", "to", "baseline"));
            if (!(v instanceof MappingNode)) {
              continue; // mapping() said what is wrong
            }
            if (t.get("at least") == null && t.get("at most") == null) {
              error(v, "throughput needs at least: N/s, at most: N/s or both (Nx with a baseline)");
              continue;
            }
            Optional<Window> baseline = Optional.empty();
            if (t.get("baseline") != null) {
              Map<String, Node> b = mapping(t.get("baseline"), Set.of("from", "to"));
              if (b.isEmpty()) {
                error(t.get("baseline"), "baseline needs from: and to: (the window to compare to)");
              }
              baseline = Optional.of(window(t.get("baseline"), b, duration));
            }
            String unit = baseline.isPresent() ? "x" : "/s";
            double least = rate(t.get("at least"), "at least", unit);
            double most = rate(t.get("at most"), "at most", unit);
            if (least == 0 && most < 0) {
              error(
                  t.get("at least"),
                  "at least: 0" + unit + " allows anything; give more, or at most");
            }
            if (least >= 0 && most >= 0 && least > most) {
              error(v, "at least " + least + unit + " is more than at most " + most + unit);
            }
            out.add(
                new Scenario.Throughput(line(item), least, most, window(v, t, duration), baseline));
          }
          case "refused" -> {
            Map<String, Node> c =
                mapping(v, Set.of("by", "at most", "at least", "from", "to", "at"));
            if (!(v instanceof MappingNode)) {
              continue; // mapping() said what is wrong
            }
            required(
                v,
                c,
                "by",
                "the defence that refuses: " + String.join(", ", Scenario.Refused.LAYERS));
            String by = text(c.get("by"), "refused.by", true);
            if (c.get("by") != null && !Scenario.Refused.LAYERS.contains(by)) {
              error(
                  c.get("by"),
                  "by: '" + by + "' is not one of " + String.join(", ", Scenario.Refused.LAYERS));
            }
            Optional<long[]> bounds = bounds(v, c, "refused");
            if (bounds.isEmpty()) {
              continue;
            }
            long least = bounds.get()[0];
            long most = bounds.get()[1];
            Optional<String> at =
                c.get("at") == null
                    ? Optional.empty()
                    : Optional.of(member(text(c.get("at"), "at", true)));
            out.add(new Scenario.Refused(line(item), by, least, most, window(v, c, duration), at));
          }
          case "lost" ->
              out.add(new Scenario.Lost(line(item), number(v, kind, 0, Long.MAX_VALUE, 0)));
          case "false deaths" -> {
            if (v instanceof ScalarNode) {
              out.add(
                  new Scenario.FalseDeaths(
                      line(item), number(v, kind, 0, Long.MAX_VALUE, 0), DEFAULT_GRACE));
              continue;
            }
            Map<String, Node> f = mapping(v, Set.of("at most", "grace"));
            Duration grace =
                f.get("grace") == null ? DEFAULT_GRACE : duration(f.get("grace"), "grace");
            out.add(
                new Scenario.FalseDeaths(
                    line(item),
                    number(f.get("at most"), "false deaths.at most", 0, Long.MAX_VALUE, 0),
                    grace));
          }
          case "steady" -> {
            // local processes are sampled in /proc, the compose lab's containers by docker stats
            if (v instanceof ScalarNode && !"true".equals(text(v, kind, true))) {
              error(
                  v, "steady takes true (the defaults) or {memory: 25%, threads: 5, warmup: 20s}");
            }
            Map<String, Node> f =
                v instanceof ScalarNode
                    ? Map.of()
                    : mapping(v, Set.of("memory", "threads", "warmup"));
            out.add(
                new Scenario.Steady(
                    line(item),
                    f.get("memory") == null ? 25 : percent(f.get("memory"), "steady.memory"),
                    number(f.get("threads"), "steady.threads", 0, 10_000, 5),
                    f.get("warmup") == null
                        ? Duration.ofSeconds(20)
                        : duration(f.get("warmup"), "steady.warmup")));
          }
          case "settled" -> {
            if (!"true".equals(text(v, kind, true))) {
              error(v, "settled takes true (every node ALIVE at every coordinator at the end)");
            }
            out.add(new Scenario.Settled(line(item)));
          }
          case "state" -> {
            Map<String, Node> s = mapping(v, Set.of("node", "becomes", "within", "after", "at"));
            required(v, s, "node", "the node whose state is expected (e.g. node-3)");
            required(v, s, "after", "the name of the action it follows (e.g. kill-3)");
            String nodeName = member(text(s.get("node"), "state.node", true));
            String after = member(text(s.get("after"), "state.after", true));
            if (s.get("after") != null && !actions.contains(after)) {
              error(
                  s.get("after"),
                  "after: no action is called '"
                      + after
                      + "' (the timeline has: "
                      + String.join(", ", timeline.stream().map(Action::name).toList())
                      + ")");
            }
            NodeState state = NodeState.ALIVE;
            if (s.get("becomes") == null) {
              error(v, "state needs becomes: ALIVE, SUSPECT, DEAD, LEFT or QUARANTINED");
            } else {
              String word = text(s.get("becomes"), "becomes", true);
              try {
                state = NodeState.valueOf(word.toUpperCase(Locale.ROOT));
                if (state == NodeState.NODE_STATE_UNSPECIFIED || state == NodeState.UNRECOGNIZED) {
                  throw new IllegalArgumentException(word);
                }
              } catch (IllegalArgumentException x) {
                error(
                    s.get("becomes"),
                    "becomes: '" + word + "' is not ALIVE, SUSPECT, DEAD, LEFT or QUARANTINED");
              }
            }
            Duration within = Duration.ZERO;
            long votes = -1;
            if (s.get("within") == null) {
              error(v, "state needs within: how soon after the action (e.g. 1s, or 5 votes)");
            } else {
              java.util.regex.Matcher m = VOTES.matcher(text(s.get("within"), "within", true));
              if (m.matches()) {
                votes = Long.parseLong(m.group(1));
                if (votes < 1 || votes > 1_000_000) {
                  error(s.get("within"), "within: N votes needs N from 1 to 1000000, got " + votes);
                }
              } else if (!isDuration(s.get("within"))) {
                error(
                    s.get("within"),
                    "within: '"
                        + text(s.get("within"), "within", true)
                        + "' is neither a duration (500ms, 10s) nor a count of votes (5 votes)");
              } else {
                within = duration(s.get("within"), "within");
              }
            }
            Optional<String> at =
                s.get("at") == null
                    ? Optional.empty()
                    : Optional.of(member(text(s.get("at"), "at", true)));
            out.add(
                new Scenario.StateWithin(line(item), nodeName, state, within, votes, after, at));
          }
          default -> throw new IllegalStateException(kind);
        }
      }
      return out;
    }

    /**
     * A count's bounds, {@code at least} and {@code at most} ({@link Scenario.Count#ANY} without
     * one), or empty if it has neither (said). A bound that cannot be read is said once, and then
     * stands for no bound at all.
     */
    private Optional<long[]> bounds(Node v, Map<String, Node> c, String kind) {
      if (c.get("at most") == null && c.get("at least") == null) {
        error(v, kind + " needs at most: N, at least: N or both");
        return Optional.empty();
      }
      long most =
          c.get("at most") == null
              ? Scenario.Count.ANY
              : number(c.get("at most"), "at most", 0, Long.MAX_VALUE, Scenario.Count.ANY);
      long least =
          c.get("at least") == null
              ? 0
              : number(c.get("at least"), "at least", 0, Long.MAX_VALUE, 0);
      if (c.get("at most") == null && c.get("at least") != null && least == 0) {
        error(c.get("at least"), "at least: 0 allows anything; give at least 1, or at most");
      }
      if (least > most && most >= 0 && least >= 0) { // a negative one was said already
        error(v, "at least " + least + " is more than at most " + most);
      }
      return Optional.of(new long[] {least, most});
    }

    /** The window of a mapping's from: and to: (the whole run without either). */
    private Window window(Node v, Map<String, Node> m, Duration duration) {
      if (m.get("from") == null && m.get("to") == null) {
        return Window.WHOLE_RUN;
      }
      int said = errors.size();
      Duration from = m.get("from") == null ? Duration.ZERO : duration(m.get("from"), "from");
      Duration to = m.get("to") == null ? duration : duration(m.get("to"), "to");
      if (duration.isZero() || errors.size() > said) {
        return new Window(from, to); // an unreadable time or duration was said already
      }
      if (from.compareTo(duration) >= 0) {
        error(
            m.get("from"),
            "from: "
                + Durations.words(from)
                + " is not before the end of the run ("
                + Durations.words(duration)
                + ")");
      } else if (to.compareTo(duration) > 0) {
        error(
            m.get("to"),
            "to: "
                + Durations.words(to)
                + " is after the end of the run ("
                + Durations.words(duration)
                + ")");
      } else if (m.get("to") != null && to.compareTo(from) <= 0) {
        error(v, "the window ends (to: " + Durations.words(to) + ") before it starts");
      }
      return new Window(from, to);
    }

    // ---- the node tree, checked

    /** A mapping's keys and values; unknown keys, non-text keys and non-mappings are errors. */
    private Map<String, Node> mapping(Node node, Set<String> allowed) {
      Map<String, Node> out = new LinkedHashMap<>();
      if (!(node instanceof MappingNode m)) {
        error(node, "expected a mapping (key: value) here" + keys(allowed));
        return out;
      }
      for (NodeTuple t : m.getValue()) {
        if (!(t.getKeyNode() instanceof ScalarNode k)) {
          error(t.getKeyNode(), "a key must be a word");
          continue;
        }
        if (!allowed.contains(k.getValue())) {
          error(k, "unknown key '" + k.getValue() + "'" + keys(allowed));
          continue;
        }
        Node first = out.putIfAbsent(k.getValue(), t.getValueNode());
        if (first != null) {
          error(k, k.getValue() + " appears twice (first on line " + line(first) + ")");
        }
      }
      return out;
    }

    private void required(Node where, Map<String, Node> fields, String key, String what) {
      if (!fields.containsKey(key) && where instanceof MappingNode) {
        error(where, key + " is missing: " + what);
      }
    }

    private static String keys(Set<String> allowed) {
      return "; the keys here are " + String.join(", ", sorted(allowed));
    }

    private String text(Node node, String what, boolean required) {
      if (node == null) {
        return "";
      }
      if (!(node instanceof ScalarNode s)) {
        error(node, what + " must be a single value");
        return "";
      }
      if (required && s.getValue().isBlank()) {
        error(node, what + " is empty");
      }
      return s.getValue().strip();
    }

    private long number(Node node, String what, long min, long max, long absent) {
      if (node == null) {
        return absent;
      }
      String t = text(node, what, true);
      try {
        long v = Long.parseLong(t);
        if (v < min || v > max) {
          error(node, what + " must be between " + min + " and " + max + ", got " + v);
        }
        return v;
      } catch (NumberFormatException e) {
        error(node, what + " must be a whole number, got '" + t + "'");
        return absent;
      }
    }

    /**
     * "40/s" (requests per second) or "1.5x" (a multiple of a baseline's), as {@code unit} says; -1
     * if absent or unreadable (said).
     */
    private double rate(Node node, String what, String unit) {
      if (node == null) {
        return -1;
      }
      String t = text(node, what, true);
      if (t.endsWith(unit)) {
        try {
          double v = Double.parseDouble(t.substring(0, t.length() - unit.length()).trim());
          if (v >= 0 && v <= 1_000_000) {
            return v;
          }
        } catch (NumberFormatException e) {
          // said below
        }
      }
      error(
          node,
          what
              + (unit.equals("x")
                  ? " must be a multiple of the baseline's throughput, e.g. 1.5x; got '"
                  : " must be requests per second, e.g. 40/s (or 1.5x with a baseline:); got '")
              + t
              + "'");
      return -1;
    }

    /** "5%" or "12.5%": a share of the answers, 0 to 100. */
    private double percent(Node node, String what) {
      String t = text(node, what, true);
      if (t.endsWith("%")) {
        try {
          double v = Double.parseDouble(t.substring(0, t.length() - 1).trim());
          if (v >= 0 && v <= 100) {
            return v;
          }
        } catch (NumberFormatException e) {
          // said below
        }
      }
      error(node, what + " must be a percentage from 0% to 100%, e.g. 5%; got '" + t + "'");
      return 0;
    }

    private double decimal(Node node, String what, double min, double max, double absent) {
      if (node == null) {
        return absent;
      }
      String t = text(node, what, true);
      try {
        double v = Double.parseDouble(t);
        if (!(v >= min && v <= max)) {
          error(node, what + " must be between " + fmt(min) + " and " + fmt(max) + ", got " + t);
        }
        return v;
      } catch (NumberFormatException e) {
        error(node, what + " must be a number, got '" + t + "'");
        return absent;
      }
    }

    /** Whether a scalar reads as a duration, without saying anything if not. */
    private static boolean isDuration(Node node) {
      if (!(node instanceof ScalarNode s)) {
        return false;
      }
      try {
        return !new DurationConverter().convert(s.getValue().strip()).isNegative();
      } catch (RuntimeException e) {
        return false;
      }
    }

    private Duration duration(Node node, String what) {
      String t = text(node, what, true);
      try {
        Duration d = new DurationConverter().convert(t);
        if (d.isNegative()) {
          error(node, what + " must not be negative, got " + t);
          return Duration.ZERO;
        }
        return d;
      } catch (RuntimeException e) {
        error(node, what + ": '" + t + "' is not a duration; write e.g. 500ms, 10s or 2m");
        return Duration.ZERO;
      }
    }

    private void error(Node node, String message) {
      error(line(node), message);
    }

    private void error(int line, String message) {
      errors.add(Map.entry(line, source + " line " + line + ": " + message));
    }

    private static int line(Node node) {
      return node.getStartMark().getLine() + 1;
    }

    private static String verbs() {
      List<String> words = new ArrayList<>();
      for (Verb v : Verb.values()) {
        words.add(v.word());
      }
      return String.join(", ", words);
    }

    private static String fmt(double v) {
      return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
  }

  private static List<String> sorted(Set<String> s) {
    return s.stream().sorted().toList();
  }
}
