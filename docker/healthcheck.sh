#!/bin/sh
# Docker's health check, run every few seconds: cheap on purpose (no JVM is started). It checks
# that the process accepts connections on its gRPC port. In a node or coordinator that is frozen
# (docker pause) the check cannot run at all; Docker counts that as a failed check, so a paused
# container turns unhealthy after the retries (seen on Swarm: docs/multi-host.md).
port=${FTLAB_PORT:-7101}
nc -z -w 2 127.0.0.1 "$port" 2>/dev/null || nc -w 2 127.0.0.1 "$port" </dev/null >/dev/null 2>&1
