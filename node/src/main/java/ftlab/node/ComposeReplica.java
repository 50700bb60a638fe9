package ftlab.node;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Hashtable;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.naming.NamingException;
import javax.naming.NoInitialContextException;
import javax.naming.directory.Attribute;
import javax.naming.directory.InitialDirContext;

/**
 * The number Docker Compose gives one replica of a scaled service: 2 for the container {@code
 * ftlab-pool-2} (Compose v2) or {@code ftlab_pool_2} (Compose 1.29), so that {@code --scale pool=3}
 * starts nodes named pool-1, pool-2 and pool-3 instead of pool-3f9c2a1b7e40.
 *
 * <p>Inside a container nothing says its own name: its host name is the container's id. But
 * Docker's DNS server (at 127.0.0.11 on every network Compose creates) answers a reverse lookup of
 * the container's address with {@code <container name>.<network name>}. The system resolver would
 * answer from {@code /etc/hosts} first, which has the id, so the lookup asks DNS itself (the JDK's
 * JNDI DNS provider, servers from {@code /etc/resolv.conf}).
 */
final class ComposeReplica {

  /** {@code <project>-<service>-<n>} or {@code <project>_<service>_<n>}, then the network. */
  private static final Pattern NUMBERED = Pattern.compile("^[A-Za-z0-9._-]*?[-_]([0-9]{1,6})$");

  private ComposeReplica() {}

  /**
   * The replica number in a container's DNS name ({@code ftlab-pool-2.ftlab.} gives 2), or empty
   * when the name does not end in one.
   */
  static OptionalInt numberIn(String dnsName) {
    String name = dnsName.endsWith(".") ? dnsName.substring(0, dnsName.length() - 1) : dnsName;
    int dot = name.indexOf('.');
    String container = dot < 0 ? name : name.substring(0, dot);
    Matcher m = NUMBERED.matcher(container);
    if (!m.matches()) {
      return OptionalInt.empty();
    }
    return OptionalInt.of(Integer.parseInt(m.group(1)));
  }

  /** {@code 5.0.18.172.in-addr.arpa} for 172.18.0.5. */
  static String reverseName(InetAddress address) {
    byte[] b = address.getAddress();
    if (b.length != 4) {
      throw new IllegalArgumentException("not an IPv4 address: " + address.getHostAddress());
    }
    return (b[3] & 0xff)
        + "."
        + (b[2] & 0xff)
        + "."
        + (b[1] & 0xff)
        + "."
        + (b[0] & 0xff)
        + ".in-addr.arpa";
  }

  /**
   * This container's replica number, asked of DNS; an exception whose message says what was asked
   * and what came back when there is none (not under Compose, or no DNS answer).
   */
  static int ofThisContainer() {
    InetAddress own;
    try {
      own = InetAddress.getLocalHost();
    } catch (UnknownHostException e) {
      throw new IllegalStateException("cannot find this host's address: " + e.getMessage(), e);
    }
    if (own.getAddress().length != 4) {
      throw new IllegalStateException(
          "this host's address " + own.getHostAddress() + " is not IPv4, as Docker's DNS needs");
    }
    String asked = reverseName(own);
    String answer;
    try {
      Hashtable<String, String> env = new Hashtable<>();
      env.put("java.naming.factory.initial", "com.sun.jndi.dns.DnsContextFactory");
      env.put("com.sun.jndi.dns.timeout.initial", "1000");
      env.put("com.sun.jndi.dns.timeout.retries", "3");
      var context = new InitialDirContext(env);
      try {
        Attribute ptr = context.getAttributes(asked, new String[] {"PTR"}).get("PTR");
        answer = ptr == null || ptr.size() == 0 ? null : String.valueOf(ptr.get(0));
      } finally {
        context.close();
      }
    } catch (NoInitialContextException e) {
      throw new IllegalStateException(
          "this Java runtime has no DNS client (the module jdk.naming.dns): an image made by"
              + " docker/make-base-images.sh before pool nodes were numbered; make it again",
          e);
    } catch (NamingException e) {
      throw new IllegalStateException(
          "a reverse DNS lookup of this container's address "
              + own.getHostAddress()
              + " failed ("
              + e.getMessage()
              + ")",
          e);
    }
    if (answer == null) {
      throw new IllegalStateException(
          "DNS has no name for this container's address " + own.getHostAddress());
    }
    OptionalInt n = numberIn(answer);
    if (n.isEmpty()) {
      throw new IllegalStateException(
          "DNS names this container's address "
              + own.getHostAddress()
              + " '"
              + answer
              + "', which does not end in a replica number like ftlab-pool-2");
    }
    return n.getAsInt();
  }
}
