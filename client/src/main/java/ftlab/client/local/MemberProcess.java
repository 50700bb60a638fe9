package ftlab.client.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The operating-system side of a local cluster's members: whether a recorded process is provably
 * still ours, whether it runs, is paused or exited (from /proc on Linux), and sending it signals.
 */
public final class MemberProcess {
  private MemberProcess() {}

  /** Sends a signal with the system's kill command (Java can only send TERM and KILL itself). */
  public static void signal(long pid, String signal) {
    try {
      new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start()
          .waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run 'kill -" + signal + " " + pid + "'", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * How far apart two readings of one process's start time may be. On Linux the JDK adds the
   * process's start, in clock ticks since boot, to the boot time from /proc/stat, which is whole
   * seconds and is derived anew at each reading (the wall clock minus the uptime): two JVMs can
   * read it a second apart. A PID reused by another process started within 2 s of ours is not a
   * real risk; a member wrongly taken for exited (never stopped by {@code local down}) is.
   */
  private static final long START_TIME_TOLERANCE_MILLIS = 2_000;

  /**
   * The live process behind a member, if it is provably the same process: same PID, same start
   * time, and an ftlab jar on its command line. When any of that cannot be checked, the member
   * counts as exited: signalling the wrong process (a PID reused since, a damaged state file) is
   * worse than leaving one of ours running.
   */
  static Optional<ProcessHandle> handle(Member m) {
    if (m.pid() <= 1 || m.startedAtMillis() <= 0) {
      return Optional.empty();
    }
    return ProcessHandle.of(m.pid())
        .filter(ProcessHandle::isAlive)
        .filter(
            h -> {
              Optional<Long> started = h.info().startInstant().map(i -> i.toEpochMilli());
              Optional<String> line =
                  h.info()
                      .commandLine()
                      .or(() -> h.info().arguments().map(a -> String.join(" ", a)));
              return started.isPresent()
                  && Math.abs(started.get() - m.startedAtMillis()) <= START_TIME_TOLERANCE_MILLIS
                  && line.map(l -> l.contains("ftlab-")).orElse(false);
            });
  }

  /** Running, paused (SIGSTOP, {@code docker pause}) or exited. */
  public static ProcessStatus status(Member m) {
    Optional<ProcessHandle> h = handle(m);
    if (h.isEmpty()) {
      return ProcessStatus.EXITED;
    }
    // Linux: the third field of /proc/PID/stat is the state; T means stopped by a signal.
    Path stat = Path.of("/proc", Long.toString(m.pid()), "stat");
    try {
      String s = Files.readString(stat);
      String afterName = s.substring(s.lastIndexOf(')') + 2);
      if (afterName.startsWith("T")) {
        return ProcessStatus.PAUSED;
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or the process just exited: report what ProcessHandle said
    }
    return ProcessStatus.RUNNING;
  }

  /** How a recorded process is doing. */
  public enum ProcessStatus {
    /** The process runs (it may still be starting). */
    RUNNING("running"),
    /** The process exists but is stopped by a signal (kill -STOP): frozen, not dead. */
    PAUSED("paused (SIGSTOP)"),
    /** No process, or not provably ours any more (see {@link #handle}). */
    EXITED("exited");

    private final String word;

    ProcessStatus(String word) {
      this.word = word;
    }

    public String word() {
      return word;
    }
  }
}
