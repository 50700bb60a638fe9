package ftlab.coordinator.dashboard;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import ftlab.coordinator.dispatch.Dispatcher;
import ftlab.coordinator.dispatch.Redundancy;
import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.NodeState;
import ftlab.metrics.MetricsServer;
import ftlab.proto.RedundancyWords;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's dashboard over HTTP, beside {@code /metrics} on the same port:
 *
 * <ul>
 *   <li>{@code GET /}: the page (and its script and style, from the jar: it works offline);
 *   <li>{@code GET /api/view}: the cluster as this coordinator sees it (JSON); the other
 *       coordinators' dashboards ({@code --dashboards}) and pages on the loopback address may read
 *       it from their pages (CORS), other web sites may not;
 *   <li>{@code GET /api/coordinators}: every coordinator's dashboard, for the page's header;
 *   <li>{@code GET /uplot.js}, {@code /uplot.css}: the charts' library, from its WebJar;
 *   <li>{@code GET /api/stream}: server-sent events, one batch every 250 ms ({@link
 *       DashboardFeed});
 *   <li>{@code POST /api/nodes/NODE/ACTION}: slow, error, lie, freeze, mute-heartbeats, crash,
 *       heal, readmit;
 *   <li>{@code POST /api/mode?mode=vote&replicas=3}: the mode for requests that choose none.
 * </ul>
 *
 * Changes need the header {@code X-Ftlab: 1}, which the page sends: a browser sends no custom
 * header to another site without asking it first (a CORS preflight this server never grants), so
 * another web page open in the same browser cannot click the buttons. It is not access control:
 * anyone who can reach the port can break the lab, as anyone who can reach the gRPC port can (the
 * security work adds identities).
 */
public final class DashboardHttp implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger("dashboard");

  /** The page, in the jar. */
  private static final String PAGE = "/ftlab/dashboard/";

  /** uPlot, the charts' library, from its WebJar (the version is the parent pom's). */
  static final String UPLOT = "/META-INF/resources/webjars/uplot/1.6.30/dist/";

  private static final Pattern NODE_ACTION = Pattern.compile("^/api/nodes/([^/]+)/([a-z-]+)$");

  private final String coordinatorId;
  private final DashboardFeed feed;
  private final Cluster cluster;
  private final Dispatcher dispatcher;
  private final NodeControls controls;
  private final AtomicInteger streams = new AtomicInteger();

  /** Every coordinator's dashboard URL by id, in the order the page lists them. */
  private final Map<String, String> dashboards;

  /** Their origins ("http://host:port"), which may read {@code /api/view} from their pages. */
  private final Set<String> dashboardOrigins = new HashSet<>();

  /** With mutual TLS on: the page shows, and changes nothing. */
  private final boolean readOnly;

  /**
   * @param dashboards every coordinator's dashboard as a browser reaches it, by coordinator id
   *     (this one's too), in the order the page lists them: see {@link #parseDashboards}
   * @param readOnly no changes through the page (modes, faults, readmissions): with mutual TLS on,
   *     whose HTTP port has no login, changes are for admins' certificates only
   */
  public DashboardHttp(
      String coordinatorId,
      DashboardFeed feed,
      Cluster cluster,
      Dispatcher dispatcher,
      Function<String, ManagedChannel> channels,
      Map<String, String> dashboards,
      boolean readOnly) {
    this.readOnly = readOnly;
    this.coordinatorId = coordinatorId;
    this.dashboards = Collections.unmodifiableMap(new LinkedHashMap<>(dashboards));
    for (String url : dashboards.values()) {
      dashboardOrigins.add(origin(URI.create(url)));
    }
    this.feed = feed;
    this.cluster = cluster;
    this.dispatcher = dispatcher;
    this.controls = new NodeControls(cluster, channels);
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      String method = exchange.getRequestMethod();
      if (method.equals("POST")) {
        post(exchange, path);
        return;
      }
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD, POST");
        text(exchange, 405, method + " is not served here");
        return;
      }
      switch (path) {
        case "/", "/index.html" ->
            resource(exchange, PAGE + "index.html", "text/html; charset=utf-8");
        case "/dashboard.js" ->
            resource(exchange, PAGE + "dashboard.js", "text/javascript; charset=utf-8");
        case "/dashboard.css" ->
            resource(exchange, PAGE + "dashboard.css", "text/css; charset=utf-8");
        case "/api/view" -> {
          // read-only; the other coordinators' pages (other origins: another port) read it to
          // show what their coordinator concluded; another web site open in the same browser may
          // not
          String origin = exchange.getRequestHeaders().getFirst("Origin");
          if (origin != null && originAllowed(origin)) {
            exchange.getResponseHeaders().set("Access-Control-Allow-Origin", origin);
            exchange.getResponseHeaders().set("Vary", "Origin");
          }
          MetricsServer.send(exchange, 200, "application/json", feed.viewJson());
        }
        case "/api/coordinators" ->
            MetricsServer.send(exchange, 200, "application/json", coordinatorsJson());
        case "/uplot.js" ->
            resource(exchange, UPLOT + "uPlot.iife.min.js", "text/javascript; charset=utf-8");
        case "/uplot.css" -> resource(exchange, UPLOT + "uPlot.min.css", "text/css; charset=utf-8");
        case "/api/stream" -> {
          if (method.equals("HEAD")) {
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            exchange.sendResponseHeaders(200, -1);
          } else {
            stream(exchange);
          }
        }
        default -> text(exchange, 404, "nothing at " + path + ": the dashboard is at /");
      }
    } catch (RuntimeException e) {
      log.warn("dashboard request failed", e);
      throw e;
    }
  }

  private void post(HttpExchange exchange, String path) throws IOException {
    if (readOnly) {
      reply(
          exchange,
          403,
          false,
          "the dashboard is read-only with mutual TLS on (its HTTP port has no login): change"
              + " modes and faults with 'ftlab mode', 'ftlab chaos' and 'ftlab readmit' and an"
              + " admin's certificate");
      return;
    }
    if (!"1".equals(exchange.getRequestHeaders().getFirst("X-Ftlab"))) {
      reply(
          exchange, 403, false, "changes need the header X-Ftlab: 1 (the dashboard page sends it)");
      return;
    }
    String host = exchange.getRequestHeaders().getFirst("Host");
    if (!hostAllowed(host)) {
      reply(
          exchange,
          403,
          false,
          "changes are taken only at an IP address, localhost or a container's name, not at '"
              + host
              + "'");
      return;
    }
    Matcher m = NODE_ACTION.matcher(path);
    if (m.matches()) {
      String node = m.group(1);
      String action = m.group(2);
      if (action.equals("readmit")) {
        readmit(exchange, node);
        return;
      }
      NodeControls.Result r = controls.apply(node, action);
      log.info("dashboard: {} {}: {}", action, node, r.message());
      if (r.ok()) {
        feed.control(node, action, action + " " + node + ": " + r.message());
      }
      reply(exchange, r.httpStatus(), r.ok(), r.message());
    } else if (path.equals("/api/mode")) {
      mode(exchange);
    } else {
      reply(exchange, 404, false, "nothing to change at " + path);
    }
  }

  /**
   * Whether a change may come through this Host: an IP address, localhost, or a name without dots
   * (a container's, in the compose lab). A web page that points a name of its own at this port (DNS
   * rebinding) comes with that name, which has dots, and is refused.
   */
  static boolean hostAllowed(String host) {
    if (host == null || host.isBlank()) {
      return false;
    }
    String name = host.strip();
    if (name.startsWith("[")) { // [::1]:8001
      return true;
    }
    int colon = name.lastIndexOf(':');
    if (colon >= 0) {
      name = name.substring(0, colon);
    }
    return name.equalsIgnoreCase("localhost")
        || name.matches("\\d{1,3}(\\.\\d{1,3}){3}")
        || name.matches("[A-Za-z0-9_-]+");
  }

  private void readmit(HttpExchange exchange, String node) throws IOException {
    try {
      NodeState after = cluster.readmit(node);
      feed.control(node, "readmit", "readmit " + node + ": " + after);
      reply(exchange, 200, true, node + " readmitted: " + after);
    } catch (IllegalArgumentException e) {
      reply(exchange, 404, false, e.getMessage());
    } catch (IllegalStateException e) {
      reply(exchange, 409, false, e.getMessage());
    }
  }

  private void mode(HttpExchange exchange) throws IOException {
    Map<String, String> q = query(exchange.getRequestURI());
    Redundancy next;
    try {
      int replicas =
          q.containsKey("replicas")
              ? Integer.parseInt(q.get("replicas"))
              : dispatcher.redundancy().replicas();
      next = new Redundancy(RedundancyWords.mode(q.getOrDefault("mode", "")), replicas);
    } catch (NumberFormatException e) {
      reply(
          exchange, 400, false, "replicas must be a whole number, got '" + q.get("replicas") + "'");
      return;
    } catch (IllegalArgumentException e) {
      reply(exchange, 400, false, e.getMessage());
      return;
    }
    Redundancy before = dispatcher.redundancy();
    dispatcher.setRedundancy(next);
    log.info(
        "redundancy mode: {} (was {}), from the dashboard", next.describe(), before.describe());
    // the feed sees the switch at its next batch, as it sees one made with 'ftlab mode'
    reply(exchange, 200, true, coordinatorId + " mode: " + next.describe());
  }

  /**
   * Reads {@code --dashboards}: "coordinator-1=http://127.0.0.1:8001,coordinator-2=http://..."
   * (empty: none known but this one).
   *
   * @throws IllegalArgumentException with a sentence saying what is wrong
   */
  public static Map<String, String> parseDashboards(String setting) {
    Map<String, String> out = new LinkedHashMap<>();
    if (setting == null || setting.isBlank()) {
      return out;
    }
    for (String pair : setting.split(",")) {
      String p = pair.strip();
      int eq = p.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            "'"
                + p
                + "' is not ID=URL: write every coordinator's dashboard as, e.g.,"
                + " coordinator-1=http://127.0.0.1:8001,coordinator-2=http://127.0.0.1:8002");
      }
      String id = p.substring(0, eq).strip();
      String url = p.substring(eq + 1).strip();
      URI uri;
      try {
        uri = URI.create(url);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "'" + url + "' (for " + id + ") is not an http:// URL with a host", e);
      }
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          || uri.getHost() == null) {
        throw new IllegalArgumentException(
            "'" + url + "' (for " + id + ") is not an http:// URL with a host");
      }
      if (out.put(id, url.endsWith("/") ? url : url + "/") != null) {
        throw new IllegalArgumentException(id + " is given twice");
      }
    }
    return out;
  }

  /**
   * Whether a page at {@code origin} may read the view: a coordinator's dashboard listed in {@code
   * --dashboards}, or any page on this machine's loopback address (a browser here that typed
   * localhost rather than 127.0.0.1).
   */
  boolean originAllowed(String origin) {
    URI o;
    try {
      o = URI.create(origin);
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (o.getHost() == null) {
      return false;
    }
    String host = o.getHost();
    if (host.equalsIgnoreCase("localhost") || host.equals("127.0.0.1") || host.equals("[::1]")) {
      return true;
    }
    return dashboardOrigins.contains(origin(o));
  }

  /** A URL's origin, as a browser's Origin header gives it: "http://10.0.0.5:8002". */
  private static String origin(URI u) {
    return u.getScheme().toLowerCase(Locale.ROOT)
        + "://"
        + u.getHost().toLowerCase(Locale.ROOT)
        + ":"
        + u.getPort();
  }

  /** Every coordinator's dashboard the page can link to, this one marked. */
  private String coordinatorsJson() {
    JsonArray out = new JsonArray();
    boolean self = false;
    for (String id : dashboards.keySet()) {
      JsonObject c = new JsonObject();
      c.addProperty("id", id);
      c.addProperty("url", dashboards.get(id));
      c.addProperty("self", id.equals(coordinatorId));
      self |= id.equals(coordinatorId);
      out.add(c);
    }
    if (!self) { // this one is not in the list: it is the page's own anyway
      JsonObject c = new JsonObject();
      c.addProperty("id", coordinatorId);
      c.addProperty("self", true);
      out.add(c);
    }
    return out.toString();
  }

  private static Map<String, String> query(URI uri) {
    Map<String, String> out = new HashMap<>();
    String raw = uri.getRawQuery();
    if (raw == null) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        out.put(
            URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  /** Holds the exchange open and writes each batch as a server-sent event until the page goes. */
  private void stream(HttpExchange exchange) throws IOException {
    // counted by the threads that write, not by the feed's pages: a page the feed dropped may
    // still hold its thread in a write to a client that stopped reading
    streams.incrementAndGet();
    try {
      Optional<DashboardFeed.Page> opened =
          streams.get() > DashboardFeed.MAX_PAGES ? Optional.empty() : feed.open();
      if (opened.isEmpty()) {
        text(exchange, 503, DashboardFeed.MAX_PAGES + " dashboards are open already: close one");
        return;
      }
      try (DashboardFeed.Page page = opened.get()) {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, 0); // chunked: as long as it lasts
        OutputStream out = exchange.getResponseBody();
        out.write("retry: 1000\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
        while (!page.closed()) {
          Optional<String> message = page.next(15_000);
          if (message.isEmpty() && page.closed()) {
            break;
          }
          // nothing for 15 s: a comment, so that a page that went away is noticed
          String chunk = message.map(msg -> "data: " + msg + "\n\n").orElse(": still here\n\n");
          out.write(chunk.getBytes(StandardCharsets.UTF_8));
          out.flush();
        }
      } catch (IOException e) {
        // the page went away: nothing to do
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } finally {
      streams.decrementAndGet();
    }
  }

  private static void resource(HttpExchange exchange, String name, String type) throws IOException {
    try (InputStream in = DashboardHttp.class.getResourceAsStream(name)) {
      if (in == null) {
        text(exchange, 500, "the dashboard's " + name + " is missing from the jar");
        return;
      }
      MetricsServer.send(
          exchange, 200, type, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  private static void reply(HttpExchange exchange, int status, boolean ok, String message)
      throws IOException {
    JsonObject j = new JsonObject();
    j.addProperty("ok", ok);
    j.addProperty("message", message);
    MetricsServer.send(exchange, status, "application/json", j.toString());
  }

  private static void text(HttpExchange exchange, int status, String message) throws IOException {
    MetricsServer.send(exchange, status, "text/plain; charset=utf-8", message + "\n");
  }
}
