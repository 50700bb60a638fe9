package ftlab.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process's HTTP port: {@code GET /metrics} answers every meter in Prometheus's text format, and
 * {@code GET /} says what is served.
 *
 * <p>Why the JDK's own HTTP server and not Netty's codec beside gRPC: it needs no dependency, and
 * it runs on a thread of its own. A scrape walks every meter and writes tens of kilobytes; on the
 * coordinator's network thread it would delay the requests (their attempts' timers run there), on
 * this thread it only takes CPU. Scrapes are rare (every few seconds), so one thread is plenty.
 */
public final class MetricsServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger("metrics");

  /** Prometheus's text exposition format. */
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService threads;

  private MetricsServer(HttpServer server, ExecutorService threads) {
    this.server = server;
    this.threads = threads;
  }

  /**
   * Listens on {@code bind:port} (port 0: any free port) and serves {@code metrics}.
   *
   * @throws IllegalStateException with a sentence, if the port is taken or the address is not this
   *     machine's
   */
  public static MetricsServer start(String bind, int port, ProcessMetrics metrics) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("HTTP port out of range: " + port);
    }
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(bind, port), 16);
    } catch (BindException e) {
      throw new IllegalStateException(
          "cannot serve metrics on " + bind + ":" + port + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serve metrics on " + bind + ":" + port + ": " + e, e);
    }
    AtomicInteger threads = new AtomicInteger();
    ExecutorService thread =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "http-" + threads.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(thread);
    server.createContext("/metrics", exchange -> handle(exchange, metrics));
    server.createContext("/", exchange -> handle(exchange, metrics));
    server.start();
    log.info("metrics on http://{}:{}/metrics", bind, server.getAddress().getPort());
    return new MetricsServer(server, thread);
  }

  private static void handle(HttpExchange exchange, ProcessMetrics metrics) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      String method = exchange.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        send(exchange, 405, "text/plain; charset=utf-8", method + " is not served here: use GET\n");
        return;
      }
      switch (path) {
        case "/metrics" -> send(exchange, 200, PROMETHEUS_TEXT, metrics.scrape());
        case "/" ->
            send(
                exchange,
                200,
                "text/plain; charset=utf-8",
                "ftlab: GET /metrics for this process's meters (Prometheus text format)\n");
        default ->
            send(
                exchange,
                404,
                "text/plain; charset=utf-8",
                "nothing at " + path + ": GET /metrics for this process's meters\n");
      }
    } catch (RuntimeException e) {
      log.warn("metrics request failed", e);
      throw e;
    }
  }

  /** Sends {@code body} with this status and type (headers only, for HEAD). */
  public static void send(HttpExchange exchange, int status, String contentType, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /**
   * Serves every path under {@code prefix} with {@code handler} (the longest matching prefix wins;
   * {@code /metrics} stays the meters').
   */
  public void route(String prefix, HttpHandler handler) {
    if (prefix.equals("/metrics")) {
      throw new IllegalArgumentException("/metrics is the meters'");
    }
    if (prefix.equals("/")) {
      server.removeContext("/");
    }
    server.createContext(prefix, handler);
  }

  /** The HTTP port is the gRPC port plus this, unless set: 7001 serves on 8001. */
  public static final int PORT_OFFSET = 1000;

  /** What {@link #portFor} returns for "none". */
  public static final int NONE = -1;

  /**
   * The HTTP port a process serves on, from its setting ({@code --http-port}, {@code
   * FTLAB_HTTP_PORT}): empty for its gRPC port + {@value #PORT_OFFSET}, {@code -1} for none.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  public static int portFor(String setting, int grpcPort) {
    if (setting == null || setting.isBlank()) {
      int port = grpcPort + PORT_OFFSET;
      if (port > 65535) {
        throw new IllegalArgumentException(
            "the HTTP port would be the gRPC port + "
                + PORT_OFFSET
                + " = "
                + port
                + ", out of range: set --http-port");
      }
      return port;
    }
    int port;
    try {
      port = Integer.parseInt(setting.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--http-port must be a port, or -1 for none, got '" + setting + "'");
    }
    if (port < NONE || port > 65535 || port == grpcPort) {
      throw new IllegalArgumentException(
          "--http-port must be -1 (none) or a port other than the gRPC port, got " + port);
    }
    return port;
  }

  /** The port it listens on (the one chosen, when started on port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  /** Stops listening at once; a scrape under way is cut off. */
  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
