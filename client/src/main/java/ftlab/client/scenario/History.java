package ftlab.client.scenario;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import ftlab.client.scenario.Scenario.Outcome;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What happened in a scenario's run, one JSON object per line (JSON Lines), in the order it was
 * recorded: first the scenario itself (its file's text, so the history can be checked again alone),
 * then every request, action, membership transition and refusal by a defence. Times are
 * milliseconds from the start of the load. Like Jepsen's histories: every request ends ok, wrong or
 * failed, and a failure says whether the work may have run anyway ({@code indefinite}).
 */
public final class History {

  /** The first line: which file, and its text. */
  public record Header(String type, String source, String text) {
    static Header of(String source, String text) {
      return new Header("scenario", source, text);
    }
  }

  /** Something the history records, with the time it happened. */
  public sealed interface Event {
    long atMs();
  }

  /**
   * One request: sent at {@code sentMs}, ended at {@code atMs}; the node that answered and the
   * coordinator it went through (empty if it failed), its attempts, and why it failed. In vote
   * mode, the nodes whose votes were counted and those of them the majority overruled (null, and
   * not written, otherwise).
   */
  public record Request(
      String type,
      long id,
      long sentMs,
      long atMs,
      Outcome outcome,
      String node,
      String coordinator,
      int attempts,
      boolean indefinite,
      String error,
      List<String> voters,
      List<String> outvoted)
      implements Event {
    public Request {
      type = "request";
    }

    /** A request without a vote. */
    public Request(
        String type,
        long id,
        long sentMs,
        long atMs,
        Outcome outcome,
        String node,
        String coordinator,
        int attempts,
        boolean indefinite,
        String error) {
      this(
          type,
          id,
          sentMs,
          atMs,
          outcome,
          node,
          coordinator,
          attempts,
          indefinite,
          error,
          null,
          null);
    }

    /** Whether the node's vote was counted for this request. */
    boolean voted(String node) {
      return voters != null && voters.contains(node);
    }

    boolean outvoted(String node) {
      return outvoted != null && outvoted.contains(node);
    }

    long latencyMs() {
      return atMs - sentMs;
    }
  }

  /**
   * One action of the timeline: planned for {@code plannedMs}, begun at {@code atMs}, confirmed to
   * have taken effect at {@code confirmedMs} (-1 if it did not, and {@code detail} says why).
   */
  public record Action(
      String type,
      String name,
      String verb,
      String target,
      long plannedMs,
      long atMs,
      long confirmedMs,
      String detail)
      implements Event {
    public Action {
      type = "action";
    }

    boolean confirmed() {
      return confirmedMs >= 0;
    }
  }

  /** A node's change of state at one coordinator, with the coordinator's reason. */
  public record Transition(
      String type,
      long atMs,
      String coordinator,
      String node,
      String from,
      String to,
      String reason)
      implements Event {
    public Transition {
      type = "transition";
    }
  }

  /**
   * Calls a coordinator's defences refused since its last look ({@code count}), counted by one
   * layer ("identity", "guards"...), with the latest of them in the coordinator's words.
   */
  public record Refusal(
      String type, long atMs, String coordinator, String layer, long count, String latest)
      implements Event {
    public Refusal {
      type = "refusal";
    }
  }

  /**
   * One look at a process of the cluster: its resident memory and thread count (a local process's
   * from {@code /proc}; on the compose lab its container's memory and tasks, from {@code docker
   * stats}), for the {@code steady} expectation; a process restarted has another {@code pid}.
   */
  public record Sample(String type, long atMs, String member, long pid, long rssKb, int threads)
      implements Event {
    public Sample {
      type = "sample";
    }
  }

  /** The load's end: how many requests it sent (each must end in the history: none lost). */
  public record Load(String type, long atMs, long sent) implements Event {
    public Load {
      type = "load";
    }
  }

  /** A history read back: the scenario's file and its events. */
  public record Read(Header header, List<Event> events) {}

  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  private History() {}

  /** The fields the checker needs that the line left out, or "". */
  private static String missing(Event e) {
    List<String> m = new ArrayList<>();
    if (e instanceof Request r) {
      if (r.outcome() == null) {
        m.add("outcome (OK, WRONG or FAILED)");
      }
    } else if (e instanceof Action a) {
      if (a.name() == null) {
        m.add("name");
      }
      if (a.verb() == null) {
        m.add("verb");
      }
    } else if (e instanceof Refusal r) {
      if (r.coordinator() == null) {
        m.add("coordinator");
      }
      if (r.layer() == null) {
        m.add("layer");
      }
    } else if (e instanceof Sample p) {
      if (p.member() == null) {
        m.add("member");
      }
    } else if (e instanceof Transition t) {
      if (t.coordinator() == null) {
        m.add("coordinator");
      }
      if (t.node() == null) {
        m.add("node");
      }
      if (t.to() == null) {
        m.add("to");
      }
    }
    return String.join(", ", m);
  }

  /** Appends lines to a history file, one writer, flushing each line (a run can be cut short). */
  public static final class Writer implements AutoCloseable {
    private final BufferedWriter out;

    public Writer(Path file, String source, String scenarioText) throws IOException {
      try {
        // a new file: an earlier run's history is not written over
        out =
            Files.newBufferedWriter(
                file, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE_NEW);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        throw new IOException(file + " exists already: give another --history", e);
      }
      line(Header.of(source, scenarioText));
    }

    public synchronized void record(Event e) throws IOException {
      line(e);
    }

    private void line(Object o) throws IOException {
      out.write(GSON.toJson(o));
      out.write('\n');
      out.flush();
    }

    @Override
    public synchronized void close() throws IOException {
      out.close();
    }
  }

  /**
   * Reads a history file.
   *
   * @throws IOException with "FILE line N: ..." for a line that is not a history's
   */
  public static Read read(Path file) throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IOException(file + " does not exist", e);
    }
    if (lines.isEmpty()) {
      throw new IOException(file + " is empty: a history starts with its scenario's line");
    }
    Header header = null;
    List<Event> events = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      try {
        JsonObject o = JsonParser.parseString(line).getAsJsonObject();
        String type = o.has("type") ? o.get("type").getAsString() : "";
        if (i == 0) {
          if (!type.equals("scenario")) {
            throw new IOException(
                file + " line 1: a history starts with its scenario ({\"type\":\"scenario\",...})");
          }
          header = GSON.fromJson(o, Header.class);
          continue;
        }
        Event e =
            switch (type) {
              case "request" -> GSON.fromJson(o, Request.class);
              case "action" -> GSON.fromJson(o, Action.class);
              case "transition" -> GSON.fromJson(o, Transition.class);
              case "refusal" -> GSON.fromJson(o, Refusal.class);
              case "sample" -> GSON.fromJson(o, Sample.class);
              case "load" -> GSON.fromJson(o, Load.class);
              default ->
                  throw new IOException(
                      file
                          + " line "
                          + (i + 1)
                          + ": unknown type '"
                          + type
                          + "' (request, action, transition or refusal)");
            };
        String missing = missing(e);
        if (!missing.isEmpty()) {
          throw new IOException(file + " line " + (i + 1) + ": a " + type + " needs " + missing);
        }
        events.add(e);
      } catch (JsonParseException | IllegalStateException | UnsupportedOperationException e) {
        throw new IOException(
            file + " line " + (i + 1) + ": not a history line: " + e.getMessage(), e);
      }
    }
    return new Read(header, events);
  }
}
