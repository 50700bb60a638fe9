# One image, three programs (node, coordinator, ftlab CLI): they share every library, and a lab
# needs all three, so one image is smaller to build and to ship than three. Pick the program with
# the command: `docker run ftlab node`, `... coordinator`, `... ftlab watch -c HOST:PORT`.
#
# The build stage compiles with Maven inside Docker, so a user needs only Docker. Both base images
# are build arguments: the defaults are public images; machines without a registry make local ones
# with docker/make-base-images.sh and pass them:
#   docker build --build-arg BUILD_IMAGE=ftlab/jdk-maven:local --build-arg RUNTIME_IMAGE=ftlab/jre:local .
ARG BUILD_IMAGE=maven:3.9-eclipse-temurin-21
ARG RUNTIME_IMAGE=eclipse-temurin:21-jre

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY . .
# the tests run outside Docker (./mvnw verify); formatting is checked there too
RUN mvn -B -ntp -DskipTests -Dspotless.skip=true package \
 && mkdir /out \
 && cp node/target/ftlab-node.jar coordinator/target/ftlab-coordinator.jar client/target/ftlab-client.jar /out/

FROM ${RUNTIME_IMAGE}
# the health check needs nc: busybox images have it, Debian/Ubuntu ones get it from apt
RUN command -v nc >/dev/null 2>&1 \
 || (apt-get update && apt-get install -y --no-install-recommends netcat-openbsd && rm -rf /var/lib/apt/lists/*)
COPY --from=build /out/ /app/
COPY docker/entrypoint.sh /app/entrypoint
COPY docker/healthcheck.sh /app/healthcheck
COPY docker/ftlab /app/bin/ftlab
# where the TLS lab's certificates go (docker-compose.tls.yml): a named volume mounted here starts
# with this folder's owner, so the processes (not root) can write it
RUN mkdir /certs && chown 10001:10001 /certs
ENV FTLAB_HOME=/app PATH=/app/bin:$PATH
# not root: no file here needs it, and a lab that breaks things should not run as root
USER 10001:10001
# gRPC (coordinator, node) and HTTP (the dashboard, GET /metrics): gRPC + 1000
EXPOSE 7001 7101 8001 8101
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 CMD ["/app/healthcheck"]
ENTRYPOINT ["/app/entrypoint"]
CMD ["node"]
