package ftlab.client.scenario;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * A run's picture and report, from its history: the chart (every request's latency at the time it
 * was sent, coloured by outcome; throughput per second; the fault windows shaded; the membership
 * transitions marked), as a PNG, and a self-contained HTML page with that chart inlined, the
 * verdict's table, the timeline and the transitions (no scripts, no links: it opens offline).
 */
public final class ScenarioReport {
  private ScenarioReport() {}

  static final Color OK = new Color(0x2e7d32);
  static final Color WRONG = new Color(0xef6c00);
  static final Color FAILED = new Color(0xc62828);
  static final Color FAULT_WINDOW = new Color(0xffcdd2);
  static final Color THROUGHPUT = new Color(0x1565c0);

  /** What an action breaks, and which verb mends it: the ends of a fault window. */
  private static final Map<String, Set<String>> MENDED_BY =
      Map.of(
          "kill", Set.of("start"),
          "stop", Set.of("start"),
          "pause", Set.of("unpause"),
          "disconnect", Set.of("connect"),
          "fault", Set.of("heal", "start"),
          "revoke", Set.of("unrevoke"));

  /** Actions of one moment, marked with a line: nothing mends them. */
  private static final Set<String> MOMENTS = Set.of("attack", "mode", "scale");

  private static final Color MOMENT = new Color(0x55607a);
  private static final Color MOMENT_LINE = new Color(0x9aa3b8);

  /** A fault window: from the action that broke a member to the one that mended it (or the end). */
  record Window(String target, String label, long fromMs, long toMs) {}

  /** Rows of labels over the chart at most. */
  static final int LABEL_ROWS = 6;

  static List<Window> windows(List<History.Event> events, long endMs) {
    List<History.Action> actions = new ArrayList<>();
    for (History.Event e : events) {
      if (e instanceof History.Action a) {
        actions.add(a);
      }
    }
    actions.sort(java.util.Comparator.comparingLong(History.Action::atMs));
    List<Window> out = new ArrayList<>();
    for (int i = 0; i < actions.size(); i++) {
      History.Action a = actions.get(i);
      Set<String> menders = MENDED_BY.get(a.verb());
      if (menders == null) {
        continue;
      }
      long to = endMs;
      for (int j = i + 1; j < actions.size(); j++) {
        History.Action b = actions.get(j);
        if (b.target().equals(a.target()) && menders.contains(b.verb())) {
          to = b.atMs();
          break;
        }
      }
      out.add(new Window(a.target(), a.verb() + " " + a.target(), a.atMs(), to));
    }
    return out;
  }

  /** The chart, {@code width} x {@code height} pixels. */
  static BufferedImage chart(Scenario s, List<History.Event> events, int width, int height) {
    long end = s.duration().toMillis();
    long maxLatency = 1;
    for (History.Event e : events) {
      if (e instanceof History.Request r) {
        end = Math.max(end, r.atMs());
        if (r.outcome() != Scenario.Outcome.FAILED) {
          maxLatency = Math.max(maxLatency, r.latencyMs());
        }
      }
    }
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
      int left = 70;
      int right = width - 60;
      int top = 40;
      int bottom = height - 95;
      double msPerPx = (double) end / (right - left);
      // latency on a log scale from 1 ms to above the slowest answer: a tail and a median both show
      double logMax = Math.log10(Math.max(10, maxLatency * 1.5));
      java.util.function.LongToIntFunction x = ms -> left + (int) Math.round(ms / msPerPx);
      java.util.function.DoubleToIntFunction y =
          ms -> bottom - (int) Math.round(Math.log10(Math.max(1, ms)) / logMax * (bottom - top));
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      // fault windows first, under everything; labels in rows, so that windows opened together
      // (stop node-1, kill node-2, pause node-3 at 8 s) each keep theirs
      List<Window> windows = windows(events, end);
      for (Window w : windows) {
        g.setColor(FAULT_WINDOW);
        g.fillRect(
            x.applyAsInt(w.fromMs()),
            top,
            Math.max(2, x.applyAsInt(w.toMs()) - x.applyAsInt(w.fromMs())),
            bottom - top);
      }
      // an action of one moment (an attack, a mode switch, a scale): a line, labelled like a window
      List<Window> labelled = new ArrayList<>(windows);
      for (History.Event e : events) {
        if (e instanceof History.Action a && MOMENTS.contains(a.verb())) {
          int px = x.applyAsInt(a.atMs());
          g.setColor(MOMENT_LINE);
          java.awt.Stroke was = g.getStroke();
          g.setStroke(
              new java.awt.BasicStroke(
                  1,
                  java.awt.BasicStroke.CAP_BUTT,
                  java.awt.BasicStroke.JOIN_MITER,
                  1,
                  new float[] {4, 3},
                  0));
          g.drawLine(px, top, px, bottom);
          g.setStroke(was);
          String label =
              a.verb().equals("attack") ? "attack on " + a.target() : a.name(); // "mode", "scale"
          labelled.add(new Window(a.target(), label, a.atMs(), -1));
        }
      }
      // rows are filled from left to right
      labelled.sort(java.util.Comparator.comparingLong(Window::fromMs));
      List<Integer> rowEnds = new ArrayList<>();
      int leftOut = 0;
      for (Window w : labelled) { // labels after every fill, or a later window hides them
        int labelX = x.applyAsInt(w.fromMs()) + 3;
        int row = 0;
        while (row < rowEnds.size() && rowEnds.get(row) >= labelX) {
          row++;
        }
        if (row >= LABEL_ROWS) { // a soak's hundred faults: the labels would hide the dots
          leftOut++;
          continue;
        }
        int labelEnd = labelX + g.getFontMetrics().stringWidth(w.label()) + 6;
        if (row == rowEnds.size()) {
          rowEnds.add(labelEnd);
        } else {
          rowEnds.set(row, labelEnd);
        }
        if (w.toMs() < 0) { // on white: another moment's line may cross it
          g.setColor(Color.WHITE);
          g.fillRect(labelX - 1, top + 3 + 14 * row, labelEnd - labelX - 4, 14);
        }
        g.setColor(w.toMs() < 0 ? MOMENT : FAILED.darker());
        g.drawString(w.label(), labelX, top + 14 + 14 * row);
      }
      // axes and grid
      g.setColor(new Color(0xdddddd));
      for (double ms = 1; ms <= Math.pow(10, logMax); ms *= 10) {
        g.drawLine(left, y.applyAsInt(ms), right, y.applyAsInt(ms));
      }
      g.setColor(Color.DARK_GRAY);
      g.drawLine(left, bottom, right, bottom);
      g.drawLine(left, top, left, bottom);
      for (double ms = 1; ms <= Math.pow(10, logMax); ms *= 10) {
        g.drawString(
            ms >= 1000 ? (long) (ms / 1000) + " s" : (long) ms + " ms", 8, y.applyAsInt(ms) + 4);
      }
      long step = end > 120_000 ? 30_000 : end > 30_000 ? 10_000 : 5_000;
      for (long t = 0; t <= end; t += step) {
        g.drawLine(x.applyAsInt(t), bottom, x.applyAsInt(t), bottom + 4);
        g.drawString(t / 1000 + " s", x.applyAsInt(t) - 8, bottom + 18);
      }
      g.drawString(
          "a dashed line: an action of one moment (an attack, a mode switch, a scale)"
              + (leftOut == 0
                  ? ""
                  : "; "
                      + leftOut
                      + " labels left out for room (the report's timeline lists every action)"),
          8,
          height - 9);
      g.drawString(
          "each request's latency at the time it was sent (log scale): green ok, orange wrong, red"
              + " failed (on the top line); requests answered per second: blue, right axis",
          8,
          height - 43);
      g.drawString(
          "shaded: from the action that broke a member to the one that mended it; triangles: a"
              + " node's state changed at a coordinator (red DEAD, amber SUSPECT, green ALIVE or"
              + " joined, grey LEFT)",
          8,
          height - 26);
      // throughput per second, on the right axis
      int seconds = (int) (end / 1000) + 1;
      int[] perSecond = new int[seconds];
      int most = 1;
      for (History.Event e : events) {
        if (e instanceof History.Request r && r.outcome() != Scenario.Outcome.FAILED) {
          int sec = (int) Math.min(seconds - 1, Math.max(0, r.atMs() / 1000));
          most = Math.max(most, ++perSecond[sec]);
        }
      }
      g.setColor(THROUGHPUT);
      g.setStroke(new BasicStroke(1.5f));
      for (int sec = 1; sec < seconds; sec++) {
        g.drawLine(
            x.applyAsInt((sec - 1) * 1000L + 500),
                bottom - perSecond[sec - 1] * (bottom - top) / most,
            x.applyAsInt(sec * 1000L + 500), bottom - perSecond[sec] * (bottom - top) / most);
      }
      g.drawString(most + "/s", right + 6, top + 4);
      g.drawString("0/s", right + 6, bottom);
      // every request: failed ones on the top line, where no answer is
      for (History.Event e : events) {
        if (e instanceof History.Request r) {
          int px = x.applyAsInt(r.sentMs());
          int py = r.outcome() == Scenario.Outcome.FAILED ? top : y.applyAsInt(r.latencyMs());
          g.setColor(
              r.outcome() == Scenario.Outcome.OK
                  ? OK
                  : r.outcome() == Scenario.Outcome.WRONG ? WRONG : FAILED);
          int size = r.outcome() == Scenario.Outcome.OK ? 3 : 7;
          g.fillOval(px - size / 2, py - size / 2, size, size);
        }
      }
      // membership transitions: a mark under the plot, red for DEAD, amber SUSPECT, green ALIVE
      for (History.Event e : events) {
        if (e instanceof History.Transition t && shown(t) && t.atMs() >= 0) {
          g.setColor(
              switch (t.to()) {
                case "DEAD", "QUARANTINED" -> FAILED;
                case "SUSPECT" -> WRONG;
                case "ALIVE" -> OK;
                default -> Color.GRAY;
              });
          int px = x.applyAsInt(t.atMs());
          g.fillPolygon(
              new int[] {px - 4, px + 4, px}, new int[] {bottom + 34, bottom + 34, bottom + 26}, 3);
        }
      }
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
      g.drawString(s.name(), left, 22);
    } finally {
      g.dispose();
    }
    return img;
  }

  /**
   * Writes the chart (NAME.png) and the page (NAME.html) next to a history NAME.jsonl.
   *
   * @return what it wrote, in words
   */
  static String writeBeside(
      java.nio.file.Path history,
      Scenario s,
      String source,
      List<History.Event> events,
      Checker.Report verdict)
      throws IOException {
    String base = history.getFileName().toString().replaceFirst("\\.jsonl$", "");
    java.nio.file.Path dir = history.toAbsolutePath().getParent();
    java.nio.file.Path pngFile = dir.resolve(base + ".png");
    java.nio.file.Path htmlFile = dir.resolve(base + ".html");
    byte[] png = null;
    String pngWords;
    try {
      System.setProperty("java.awt.headless", "true");
      png = png(chart(s, events, 1200, 500));
      java.nio.file.Files.write(pngFile, png);
      pngWords = pngFile.toString();
    } catch (LinkageError e) {
      // a Java runtime without java.desktop (the containers' jlinked one)
      pngWords = "no PNG (this Java runtime cannot draw: " + e + ")";
    }
    java.nio.file.Files.writeString(
        htmlFile, html(s, source, events, verdict, png), java.nio.charset.StandardCharsets.UTF_8);
    return "report: " + htmlFile + " (opens offline); chart: " + pngWords;
  }

  static byte[] png(BufferedImage img) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  /** The self-contained page: the verdict, the chart, the timeline, the transitions. */
  static String html(
      Scenario s, String source, List<History.Event> events, Checker.Report verdict, byte[] png) {
    StringBuilder h = new StringBuilder();
    h.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
        .append(esc(s.name()))
        .append("</title>\n<style>body{font:14px sans-serif;margin:2em;max-width:1100px}")
        .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;")
        .append("padding:3px 8px;text-align:left}.met{color:#2e7d32}.missed{color:#c62828;")
        .append("font-weight:bold}img{max-width:100%}</style></head><body>\n");
    h.append("<h1>")
        .append(esc(s.name()))
        .append("</h1>\n<p>")
        .append(esc(source))
        .append(": ")
        .append(verdict.requests())
        .append(" requests, ")
        .append(verdict.ok())
        .append(" ok, ")
        .append(verdict.failed())
        .append(" failed, ")
        .append(verdict.wrong())
        .append(" wrong. <b class=\"")
        .append(verdict.passed() ? "met\">PASS" : "missed\">FAIL")
        .append("</b></p>\n");
    if (!s.description().isEmpty()) {
      h.append("<p>").append(esc(s.description())).append("</p>\n");
    }
    h.append("<table><tr><th></th><th>expectation</th><th>figures</th></tr>\n");
    for (Checker.Verdict v : verdict.verdicts()) {
      h.append("<tr><td class=\"")
          .append(v.met() ? "met\">met" : "missed\">MISSED")
          .append("</td><td>")
          .append(esc(v.expectation().describe()))
          .append("</td><td>")
          .append(esc(v.figures()))
          .append("</td></tr>\n");
    }
    h.append("</table>\n");
    if (png != null) {
      h.append(
              "<img alt=\"latency of every request over time, fault windows shaded\" src=\"data:image/png;base64,")
          .append(Base64.getEncoder().encodeToString(png))
          .append("\">\n");
    }
    h.append("<h2>Timeline</h2>\n<table><tr><th>planned</th><th>began</th><th>action</th>")
        .append("<th>took effect</th></tr>\n");
    for (History.Event e : events) {
      if (e instanceof History.Action a) {
        h.append(
            String.format(
                Locale.ROOT,
                "<tr><td>%.1f s</td><td>%.1f s</td><td>%s</td><td>%s</td></tr>%n",
                a.plannedMs() / 1e3,
                a.atMs() / 1e3,
                esc(a.name()),
                esc(
                    a.confirmed()
                        ? "after " + (a.confirmedMs() - a.atMs()) + " ms: " + a.detail()
                        : "NO: " + a.detail())));
      }
    }
    h.append("</table>\n<h2>Membership transitions</h2>\n<table><tr><th>at</th>")
        .append("<th>coordinator</th><th>node</th><th>from</th><th>to</th><th>why</th></tr>\n");
    for (History.Event e : events) {
      if (e instanceof History.Transition t && shown(t)) {
        h.append(
            String.format(
                Locale.ROOT,
                "<tr><td>%.2f s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>%n",
                t.atMs() / 1e3,
                esc(t.coordinator()),
                esc(t.node()),
                t.from().isEmpty() ? "(joined)" : esc(t.from()),
                esc(t.to()),
                esc(String.valueOf(t.reason()))));
      }
    }
    h.append("</table>\n</body></html>\n");
    return h.toString();
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  /**
   * A change of a node's state, or a node that joined during the run (scaled out); not the states
   * the nodes had when the run first looked (they joined before the load began).
   */
  static boolean shown(History.Transition t) {
    return !t.from().isEmpty() || t.atMs() > 0;
  }
}
