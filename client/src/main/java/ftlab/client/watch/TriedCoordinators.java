package ftlab.client.watch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The coordinators one request tried and how each failed, for its FAILED or answer line. A
 * coordinator that failed the same way several times (the only one there is, down for the whole
 * request) is one entry, "failed 19 times, 36 to 965 ms into the request: why", not 19.
 */
final class TriedCoordinators {
  private record Key(String address, String error) {}

  private static final class Failures {
    int times;
    long firstMs;
    long lastMs;
  }

  private final Map<Key, Failures> failures = new LinkedHashMap<>();

  /** Notes that {@code address} failed {@code atMs} ms into the request, because {@code error}. */
  void failed(String address, long atMs, String error) {
    Failures f = failures.computeIfAbsent(new Key(address, error), k -> new Failures());
    if (f.times == 0) {
      f.firstMs = atMs;
    }
    f.times++;
    f.lastMs = atMs;
  }

  /** One sentence per coordinator and reason, in the order they first failed. */
  List<String> sentences() {
    List<String> out = new ArrayList<>();
    failures.forEach(
        (key, f) ->
            out.add(
                key.address()
                    + (f.times == 1
                        ? " failed " + f.firstMs + " ms"
                        : " failed " + f.times + " times, " + f.firstMs + " to " + f.lastMs + " ms")
                    + " into the request: "
                    + key.error()));
    return out;
  }
}
