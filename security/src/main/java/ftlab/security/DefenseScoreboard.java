package ftlab.security;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.ServerTransportFilter;
import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * What one process's defences turned away since it started: a count per layer, the latest refusal
 * with its time, and which refusals to log. An attacker that retries a thousand times a second must
 * not fill the log: each layer's refusal is logged at once, then at most once per {@link
 * #LOG_EVERY_NANOS} with the count since (time passed in, as the membership does).
 *
 * <p>Thread-safe: refusals come from the network threads.
 */
public final class DefenseScoreboard {

  /** A layer's refusals are logged at most this often (10 s). */
  public static final long LOG_EVERY_NANOS = 10_000_000_000L;

  /** A refusal as recorded: with the count of its layer's refusals not logged before it. */
  public record Recorded(Refusal refusal, long nanos, boolean log, long unloggedBefore) {}

  private final Optional<Identity> self;
  private final LongSupplier nanoTime;
  private final Revocations revocations;
  private final Map<Refusal.Layer, Long> counts = new EnumMap<>(Refusal.Layer.class);
  private final Map<Refusal.Layer, Long> lastLogged = new EnumMap<>(Refusal.Layer.class);
  private final Map<Refusal.Layer, Long> unlogged = new EnumMap<>(Refusal.Layer.class);
  private final CopyOnWriteArrayList<Consumer<Recorded>> listeners = new CopyOnWriteArrayList<>();
  private Recorded latest;

  /**
   * @param self this process's identity with TLS on, empty in plaintext
   */
  public DefenseScoreboard(Optional<Identity> self, LongSupplier nanoTime) {
    this(self, nanoTime, new Revocations());
  }

  /**
   * @param revocations the names an operator revoked (read from the certificate folder at start)
   */
  public DefenseScoreboard(
      Optional<Identity> self, LongSupplier nanoTime, Revocations revocations) {
    this.self = self;
    this.nanoTime = nanoTime;
    this.revocations = revocations;
  }

  /** The certificates refused by name ({@code ftlab revoke}). */
  public Revocations revocations() {
    return revocations;
  }

  /** A plaintext process's: nothing to count, but the mode to say. */
  public static DefenseScoreboard plaintext() {
    return new DefenseScoreboard(Optional.empty(), System::nanoTime);
  }

  /**
   * A process's with mutual TLS on: its identity from its certificate, and the names revoked in its
   * folder's {@code revoked} file ({@code ftlab revoke} wrote them), refused from the start.
   *
   * @throws IOException with a sentence if the revocation file has a bad line
   */
  public static DefenseScoreboard of(TlsFiles tls) throws IOException {
    return new DefenseScoreboard(
        Optional.of(tls.self()),
        System::nanoTime,
        Revocations.read(tls.dir(), System.currentTimeMillis()));
  }

  /** Connections that completed a TLS handshake with this process's port. */
  private final LongAdder handshakes = new LongAdder();

  /**
   * Counts, on the server builder it is added to, every connection that completed a TLS handshake
   * (a refused one never becomes ready). gRPC keeps connections open, so the count grows by one per
   * new link, not per call: a count that grows with the calls means a handshake per call.
   */
  public ServerTransportFilter handshakeCounter() {
    return new ServerTransportFilter() {
      @Override
      public Attributes transportReady(Attributes transport) {
        if (transport.get(Grpc.TRANSPORT_ATTR_SSL_SESSION) != null) {
          handshakes.increment();
        }
        return transport;
      }
    };
  }

  /** TLS handshakes completed since start (see {@link #handshakeCounter()}). */
  public long handshakes() {
    return handshakes.sum();
  }

  /** Whether calls must come over mutual TLS. */
  public boolean tls() {
    return self.isPresent();
  }

  /** The mode in a sentence for a process's start-up log: what a caller needs. */
  public String describe() {
    return tls()
        ? mode() + ", every caller needs a certificate from the lab's authority"
        : "plaintext (anyone who reaches this port may call anything: docs/security.md)";
  }

  /**
   * The log line of a refusal to log ({@link Recorded#log()}): who refused what, and how many of
   * its layer went unlogged since the last such line.
   */
  public static String logLine(String self, Recorded r) {
    return self
        + " "
        + r.refusal().sentence()
        + (r.unloggedBefore() == 0
            ? ""
            : " (and "
                + r.unloggedBefore()
                + " more "
                + r.refusal().layer().word()
                + " refusals since the last such line)");
  }

  /** "mutual TLS as coordinator coordinator-1", or "plaintext". */
  public String mode() {
    return self.map(s -> "mutual TLS as " + s + " (" + s.uri() + ")").orElse("plaintext");
  }

  /** Subscribes to every refusal from now on (meters, logs). */
  public void listen(Consumer<Recorded> listener) {
    listeners.add(listener);
  }

  /** Counts a refusal and tells the listeners, with whether to log it. */
  public void record(Refusal refusal) {
    long now = nanoTime.getAsLong();
    Recorded recorded;
    synchronized (this) {
      counts.merge(refusal.layer(), 1L, Long::sum);
      Long last = lastLogged.get(refusal.layer());
      boolean log = last == null || now - last >= LOG_EVERY_NANOS;
      long before = unlogged.getOrDefault(refusal.layer(), 0L);
      if (log) {
        lastLogged.put(refusal.layer(), now);
        unlogged.put(refusal.layer(), 0L);
      } else {
        unlogged.put(refusal.layer(), before + 1);
      }
      recorded = new Recorded(refusal, now, log, log ? before : 0);
      latest = recorded;
    }
    for (Consumer<Recorded> listener : listeners) {
      try {
        listener.accept(recorded);
      } catch (RuntimeException e) {
        // a meter or a log line must not keep a refused call open or break a handshake
        java.util.logging.Logger.getLogger(DefenseScoreboard.class.getName())
            .log(java.util.logging.Level.WARNING, "a refusal listener failed", e);
      }
    }
  }

  /** Refusals per layer since start (layers with none left out). */
  public synchronized Map<Refusal.Layer, Long> counts() {
    return Map.copyOf(counts);
  }

  /** The latest refusal, if any. */
  public synchronized Optional<Recorded> latest() {
    return Optional.ofNullable(latest);
  }

  /** How long ago, by this scoreboard's clock, a recorded refusal happened. */
  public long ageNanos(Recorded recorded) {
    return nanoTime.getAsLong() - recorded.nanos();
  }
}
