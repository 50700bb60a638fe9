#!/usr/bin/env bash
# Makes the two base images that the Dockerfile takes as build arguments, from what is installed on
# this machine, for machines that cannot pull from a container registry (CI here, offline
# workshops). With Docker Hub you never need it: the Dockerfile's defaults are public images.
#
#   ftlab/jre:local        a jlinked Java runtime (only the modules ftlab uses) + busybox
#   ftlab/jdk-maven:local  a full JDK + Maven + busybox, for the build stage
#   ftlab/prometheus:local Debian's prometheus + busybox, for the compose observability profile
#                          (made only where prometheus is installed: apt-get install prometheus)
#
# Then: docker build --build-arg BUILD_IMAGE=ftlab/jdk-maven:local \
#                    --build-arg RUNTIME_IMAGE=ftlab/jre:local -t ftlab:latest .
# Needs: docker, a JDK 21+ ($JDK, default Temurin 25), busybox-static, and Maven (the wrapper's).
set -euo pipefail
cd "$(dirname "$0")/.."

JDK=${JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}
BUSYBOX=${BUSYBOX:-/bin/busybox}
# the modules the fat jars need (jdeps --print-module-deps), plus the ones they load by reflection:
# java.logging (gRPC logs through it), java.xml (logback's config), java.management (logback JMX),
# jdk.crypto.ec (TLS, for the security labs), jdk.httpserver (GET /metrics), jdk.naming.dns (a pool
# node's reverse DNS lookup of its own container name, for FTLAB_ID=pool-{replica})
MODULES=java.base,java.logging,java.management,java.naming,java.sql,java.xml,jdk.unsupported,jdk.jfr,jdk.crypto.ec,jdk.httpserver,jdk.naming.dns

[ -x "$JDK/bin/jlink" ] || { echo "no JDK with jlink at $JDK (set JDK=...)" >&2; exit 2; }
[ -x "$BUSYBOX" ] || { echo "no static busybox at $BUSYBOX (apt-get install busybox-static)" >&2; exit 2; }
# (grep without -q, and awk without exit: with pipefail, a reader that stops early kills the writer
# with SIGPIPE and fails the pipeline at random)
file -L "$BUSYBOX" 2>/dev/null | grep 'statically linked' >/dev/null || ldd "$BUSYBOX" 2>&1 | grep 'not a dynamic' >/dev/null \
  || { echo "$BUSYBOX is not statically linked (apt-get install busybox-static)" >&2; exit 2; }
MAVEN_HOME=$(./mvnw -v 2>/dev/null | sed -n 's/^Maven home: //p')
[ -d "$MAVEN_HOME" ] || { echo "cannot find Maven (./mvnw -v printed no 'Maven home')" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Copies the shared libraries a binary needs (and the dynamic loader) into a root folder.
copy_libs() { # root binary...
  local root=$1; shift
  for bin in "$@"; do
    ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
      [ -e "$lib" ] || continue
      mkdir -p "$root$(dirname "$lib")"
      cp -Ln "$lib" "$root$lib" 2>/dev/null || true
    done
  done
}

# A root folder with busybox as /bin/sh and the usual tools, /tmp, and a CA-free /etc.
base_root() { # root
  local root=$1
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root"
  chmod 1777 "$root/tmp"
  cp "$BUSYBOX" "$root/bin/busybox"
  for tool in $("$BUSYBOX" --list); do
    [ -e "$root/bin/$tool" ] || ln -s busybox "$root/bin/$tool"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  echo 'root:x:0:' > "$root/etc/group"
  printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
}

echo "== ftlab/jre:local: jlink runtime with $MODULES"
jre=$work/jre
base_root "$jre"
"$JDK/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages \
  --compress=zip-6 --output "$jre/opt/java"
copy_libs "$jre" "$jre/opt/java/bin/java" "$jre"/opt/java/lib/*.so "$jre"/opt/java/lib/server/*.so
tar -C "$jre" -c . | docker import \
  -c 'ENV PATH=/opt/java/bin:/bin' -c 'ENV JAVA_HOME=/opt/java' -c 'ENV HOME=/root' \
  - ftlab/jre:local >/dev/null
docker run --rm ftlab/jre:local java -version 2>&1 | sed -n 1p

echo "== ftlab/jdk-maven:local: JDK + Maven $("$MAVEN_HOME/bin/mvn" -v 2>/dev/null | sed -n 1p | awk '{print $3}')"
jdk=$work/jdk
base_root "$jdk"
mkdir -p "$jdk/opt"
cp -rL "$JDK" "$jdk/opt/java"       # -L: lib/security/cacerts must be a real file, not a link
cp -rL "$MAVEN_HOME" "$jdk/opt/maven"
copy_libs "$jdk" "$jdk/opt/java/bin/java" "$jdk"/opt/java/lib/*.so "$jdk"/opt/java/lib/server/*.so
# protoc and its gRPC plugin (downloaded by the build) are dynamic C++ programs
for lib in libstdc++.so.6 libgcc_s.so.1 libutil.so.1 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1; do
  path=$(ldconfig -p | awk -v l="$lib" '$1==l && /x86-64/ && !found {print $NF; found=1}')
  [ -n "$path" ] && { mkdir -p "$jdk$(dirname "$path")"; cp -Ln "$path" "$jdk$path"; }
done
tar -C "$jdk" -c . | docker import \
  -c 'ENV PATH=/opt/java/bin:/opt/maven/bin:/bin' -c 'ENV JAVA_HOME=/opt/java' \
  -c 'ENV MAVEN_HOME=/opt/maven' -c 'ENV HOME=/root' \
  - ftlab/jdk-maven:local >/dev/null
docker run --rm ftlab/jdk-maven:local mvn -v 2>&1 | sed -n 1p
if command -v prometheus >/dev/null; then
  echo "== ftlab/prometheus:local: $(prometheus --version 2>&1 | sed -n 1p)"
  prom=$work/prometheus
  base_root "$prom"
  mkdir -p "$prom/usr/bin" "$prom/usr/share"
  cp -L "$(command -v prometheus)" "$prom/usr/bin/prometheus"
  [ -d /usr/share/prometheus ] && cp -rL /usr/share/prometheus "$prom/usr/share/prometheus"
  copy_libs "$prom" "$prom/usr/bin/prometheus"
  tar -C "$prom" -c . | docker import -c 'ENV PATH=/usr/bin:/bin' -c 'ENV HOME=/root' \
    - ftlab/prometheus:local >/dev/null
  docker run --rm ftlab/prometheus:local prometheus --version 2>&1 | sed -n 1p
else
  echo "== ftlab/prometheus:local skipped: no prometheus here (apt-get install prometheus)"
fi
docker images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep '^ftlab/'
