#!/bin/sh
# The image's three programs:  node (the default) | coordinator | ftlab ARGS (the CLI).
# Settings come from FTLAB_* environment variables (see docker-compose.yml) or from arguments.
# `exec` makes java replace this shell, so `docker stop`'s SIGTERM reaches the JVM directly and a
# node leaves gracefully (LEFT, not DEAD).
set -e
# Small, predictable JVMs, so that a laptop can run a dozen: the serial collector (no GC threads),
# a 64 MiB heap, bounded metaspace and code cache, and C1 only (less memory and startup CPU).
# Names are looked up again after 1 s, not 30 s (the JDK's and gRPC's default): containers that
# restart together can swap IP addresses, and a 30 s old answer would send heartbeats, requests
# and tasks to the wrong container or to nobody. Override with JAVA_OPTS.
JVM_DEFAULTS="-XX:+UseSerialGC -Xms16m -Xmx64m -XX:MaxMetaspaceSize=64m -XX:ReservedCodeCacheSize=32m -XX:MaxDirectMemorySize=32m -Xss512k -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError"
DNS_DEFAULTS="-Dsun.net.inetaddr.ttl=1 -Dsun.net.inetaddr.negative.ttl=0 -Dnetworkaddress.cache.ttl=1"
JVM_DEFAULTS="$JVM_DEFAULTS $DNS_DEFAULTS"
program=${1:-node}
[ $# -gt 0 ] && shift
case "$program" in
  node|coordinator)
    exec java $JVM_DEFAULTS $JAVA_OPTS -jar "/app/ftlab-$program.jar" "$@" ;;
  ftlab)
    exec java $JVM_DEFAULTS $JAVA_OPTS -jar /app/ftlab-client.jar "$@" ;;
  *)
    exec "$program" "$@" ;;
esac
