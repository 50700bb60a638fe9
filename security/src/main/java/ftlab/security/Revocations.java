package ftlab.security;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The certificates an operator revoked ({@code ftlab revoke NAME}), by name: every call from a
 * certificate of that name is refused from then on, whatever its role. Thread-safe.
 *
 * <p>A lab's revocations also live in the file {@code revoked} of a certificate folder, one name
 * per line ({@code #} starts a comment), which a coordinator reads when it starts. Each coordinator
 * writes the revocations it is told of into its own folder, and {@code ftlab revoke} into the
 * CLI's, so that a coordinator restarted later still refuses the name even when every process has a
 * folder of its own ({@code ftlab certs --split}). Writers of one folder (two coordinators and the
 * CLI of {@code ftlab local up --tls}) take turns: see {@link #write}.
 */
public final class Revocations {

  /** The file in the certificate folder. */
  public static final String FILE = "revoked";

  /** Who revoked a name, and when (wall clock, ms). */
  public record Revoked(String by, long atMillis) {}

  private final Map<String, Revoked> revoked = new ConcurrentHashMap<>();

  /** The folder whose file this was read from, if it was. */
  private final Optional<Path> folder;

  /** None revoked, kept nowhere. */
  public Revocations() {
    this(Optional.empty());
  }

  private Revocations(Optional<Path> folder) {
    this.folder = folder;
  }

  /** The certificate folder whose {@code revoked} file this was read from, if it was. */
  public Optional<Path> folder() {
    return folder;
  }

  /** Revokes a name; returns false if it was revoked already. */
  public boolean revoke(String name, String by, long nowMillis) {
    return revoked.putIfAbsent(name, new Revoked(by, nowMillis)) == null;
  }

  /** Takes a revocation back; returns false if the name was not revoked. */
  public boolean undo(String name) {
    return revoked.remove(name) != null;
  }

  /** Whether (and by whom) a certificate's name is revoked. */
  public Optional<Revoked> of(Identity identity) {
    return Optional.ofNullable(revoked.get(identity.name()));
  }

  /** A name revoked, or ({@code undo}) taken back, in this process, and who said so. */
  public record Change(String name, boolean undo, String by) {}

  /**
   * The names coordinators told this process to revoke (a node: {@link #hear}), each with the
   * coordinators that list it now. Guarded by this.
   */
  private final Map<String, java.util.Set<String>> toldBy = new java.util.HashMap<>();

  /**
   * What a coordinator says it revokes (in its heartbeat replies, to a node): the names new here
   * are revoked, by it. A name that coordinators told this process of is taken back (an {@code
   * ftlab revoke --undo}) once no coordinator that listed it lists it any more, so two coordinators
   * that take turns replying do not switch it off and on. Names from this process's own file (with
   * no "told by" note) are the operator's: coordinators neither revoke them again nor take them
   * back. Invalid names are skipped. Cheap when nothing changed (every heartbeat reply comes here).
   *
   * @param coordinator the coordinator's name, as its certificate says it (not as its reply does)
   * @return what changed, for the log and the file
   */
  public synchronized List<Change> hear(String coordinator, List<String> names, long nowMillis) {
    List<Change> changes = new ArrayList<>();
    java.util.Set<String> listed = new java.util.HashSet<>();
    for (String name : names) {
      try {
        new Identity(Role.NODE, name); // a valid name, one line in a file
      } catch (IllegalArgumentException e) {
        continue;
      }
      listed.add(name);
      Revoked before = revoked.get(name);
      if (before == null) {
        revoke(name, coordinator, nowMillis);
        toldBy.computeIfAbsent(name, n -> new java.util.HashSet<>()).add(coordinator);
        changes.add(new Change(name, false, coordinator));
      } else if (toldBy.containsKey(name)) {
        toldBy.get(name).add(coordinator);
      }
    }
    for (java.util.Iterator<Map.Entry<String, java.util.Set<String>>> it =
            toldBy.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<String, java.util.Set<String>> e = it.next();
      if (!listed.contains(e.getKey())
          && e.getValue().remove(coordinator)
          && e.getValue().isEmpty()) {
        it.remove();
        if (revoked.remove(e.getKey()) != null) {
          changes.add(new Change(e.getKey(), true, coordinator));
        }
      }
    }
    changes.sort(java.util.Comparator.comparing(Change::name));
    return changes;
  }

  /** The revoked names, sorted. */
  public List<String> names() {
    return new ArrayList<>(new TreeMap<>(revoked).keySet());
  }

  /**
   * Reads the names in {@code dir/revoked} (none if there is no such file), as revoked by "the
   * file".
   *
   * @throws IOException with a sentence if a line is not a valid name
   */
  public static Revocations read(Path dir, long nowMillis) throws IOException {
    Revocations r = new Revocations(Optional.of(dir));
    for (Map.Entry<String, String> e : readEntries(dir.resolve(FILE)).entrySet()) {
      Matcher told = TOLD.matcher(e.getValue());
      if (told.matches()) {
        // a name coordinators told this process of: theirs to take back (see hear)
        r.revoke(e.getKey(), told.group(1), nowMillis);
        r.toldBy.computeIfAbsent(e.getKey(), n -> new java.util.HashSet<>()).add(told.group(1));
      } else {
        r.revoke(e.getKey(), dir.resolve(FILE).toString(), nowMillis);
      }
    }
    return r;
  }

  /** The note after a name that a coordinator told a node of: "told by coordinator-1". */
  private static final Pattern TOLD = Pattern.compile("told by (\\S+)");

  /** The names in a revocation file, in order, without comments and blank lines. */
  public static List<String> readNames(Path file) throws IOException {
    return new ArrayList<>(readEntries(file).keySet());
  }

  /** The names in a revocation file, in order, each with the comment on its line ("" if none). */
  private static Map<String, String> readEntries(Path file) throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return Map.of();
    }
    Map<String, String> names = new java.util.LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String whole = lines.get(i);
      int hash = whole.indexOf('#');
      String line = (hash < 0 ? whole : whole.substring(0, hash)).strip();
      if (line.isEmpty()) {
        continue;
      }
      try {
        names.put(
            new Identity(Role.NODE, line).name(),
            hash < 0 ? "" : whole.substring(hash + 1).strip());
      } catch (IllegalArgumentException e) {
        throw new IOException(file + " line " + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    return names;
  }

  /** One writer at a time in this JVM: a file lock is held by the process, not by a thread. */
  private static final Object WRITERS = new Object();

  /**
   * Adds (or with {@code undo} removes) a name in a folder's revocation file. Writers of the same
   * folder take turns, in this process and across processes (a lock on {@code .revoked.lock} next
   * to it), so that two coordinators and the CLI sharing a folder never lose each other's names;
   * the file is replaced whole (a reader sees the old one or the new one).
   */
  public static void write(Path dir, String name, boolean undo) throws IOException {
    write(dir, name, undo, "");
  }

  /**
   * As {@link #write(Path, String, boolean)}, with a note after the name ("told by coordinator-1":
   * read back as who revoked it, see {@link #hear}).
   */
  public static void write(Path dir, String name, boolean undo, String note) throws IOException {
    try {
      new Identity(Role.NODE, name); // one valid name, one line
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    synchronized (WRITERS) {
      try (FileChannel lockFile =
          FileChannel.open(
              dir.resolve(".revoked.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock lock = lockFile.lock(); // waits for the other process's turn
        try {
          replace(dir, name, undo, note);
        } finally {
          lock.release();
        }
      }
    }
  }

  private static void replace(Path dir, String name, boolean undo, String note) throws IOException {
    Path file = dir.resolve(FILE);
    Map<String, String> names = new java.util.LinkedHashMap<>(readEntries(file));
    names.remove(name);
    if (!undo) {
      names.put(name, note.replace('\n', ' ').replace('\r', ' ').strip());
    }
    StringBuilder text =
        new StringBuilder(
            "# certificates revoked with 'ftlab revoke' (one name a line); coordinators and nodes"
                + " read this when they start\n");
    names.forEach(
        (n, comment) ->
            text.append(n).append(comment.isEmpty() ? "" : "  # " + comment).append('\n'));
    Path temporary = Files.createTempFile(dir, ".revoked", ".tmp");
    try {
      Files.writeString(temporary, text, StandardCharsets.UTF_8);
      try {
        // readable by coordinators that run as another user (containers), as the certificates
        Files.setPosixFilePermissions(
            temporary, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
      } catch (UnsupportedOperationException e) {
        // not POSIX
      }
      Files.move(
          temporary,
          file,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }
}
