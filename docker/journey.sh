#!/usr/bin/env bash
# The compose journey: the README's Docker lab, command by command, checked.
#   build, the offline recipe (docker save, rmi, docker load), up, first answer, stop node-2, kill node-3, pause node-4,
#   stop coordinator-1: the client keeps answering, with zero failures and zero wrong answers;
#   then start/unpause everything and see it ALIVE again; cut node-5 off the network and back
#   (Lab 1b), freeze coordinator-1 and thaw it (Lab 1c); lab 7's scenario (target: compose, run
#   from the host: the pool scaled to 2 and back to 0 under a checked load, with a verdict); the
#   detection table's scenario (docker stop, kill, pause, network disconnect/connect, start,
#   unpause and the in-app crash, freeze and mute, one at a time, each seen and mended, with a
#   verdict); a two-minute chaos soak on the lab (ftlab soak --target compose, network cuts among
#   its faults, with a verdict); a compose scenario cut short by SIGTERM leaving nothing paused or
#   cut off; then down
#   -v, leaving nothing behind.
#   It runs with the observability profile: coordinator-1's /metrics and Prometheus must see the
#   kill too (offline, make ftlab/prometheus:local first and set FTLAB_PROMETHEUS_IMAGE).
# Runs as its own compose project (ftlab-journey), so it never touches a lab you have running.
# Uses `docker compose` if present, else docker-compose (COMPOSE=... to choose).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${COMPOSE:-}" ]; then
  if docker compose version >/dev/null 2>&1; then COMPOSE="docker compose"; else COMPOSE=docker-compose; fi
fi
PROJECT=ftlab-journey
# Settings as a learner's .env file gives them (a file of its own, not the checkout's .env): each
# must reach the processes, which the journey checks below
ENV_FILE=$(mktemp)
# (and a network of its own: the lab's is named ftlab)
printf 'JAVA_OPTS=-XX:+PrintCommandLineFlags\nFTLAB_IO_THREADS=2\n' >"$ENV_FILE"
export FTLAB_NETWORK=ftlab-journey   # (exported: a value in the caller's shell must not win)
compose() { $COMPOSE -p "$PROJECT" --env-file "$ENV_FILE" "$@"; }
# shellcheck source=docker/journey-lib.sh
. docker/journey-lib.sh
# lab 7's scenario runs from the host, with the checkout's jars
if [ ! -f client/target/ftlab-client.jar ] || ! command -v java >/dev/null; then
  say "needs java and the built jars (lab 7's scenario runs from the host): ./mvnw -DskipTests package"
  exit 1
fi

pick_port FTLAB_COORDINATOR_1_PORT
pick_port FTLAB_COORDINATOR_2_PORT
pick_port FTLAB_COORDINATOR_1_HTTP_PORT
pick_port FTLAB_COORDINATOR_2_HTTP_PORT
pick_port FTLAB_PROMETHEUS_PORT
# with Prometheus (the observability profile), which must see what the journey does
export COMPOSE_PROFILES=observability

save_logs() {
  mkdir -p target
  compose logs --no-color --timestamps >target/journey-logs.txt 2>&1 || true
  say "every service's whole log, with timestamps: $PWD/target/journey-logs.txt"
}
cleanup() {
  status=$?
  if [ $status -ne 0 ]; then
    say "FAILED; the client's last lines and the coordinators' logs:"
    compose logs --no-color --tail=40 client coordinator-1 coordinator-2 2>/dev/null || true
    save_logs
  fi
  down_all >/dev/null 2>&1 || true
  rm -f "$ENV_FILE"
  rm -rf "${bundle_dir:-}"
  exit $status
}
# down with every profile: Compose v2 leaves the containers of a profile it is not given
down_all() { COMPOSE_PROFILES=observability,pool compose down -v --remove-orphans; }
trap cleanup EXIT


# an image tag of its own, so that taking it away and loading it back (below) never touches the
# image of a lab running here
export FTLAB_IMAGE=ftlab:journey
say "building the image (${FTLAB_BUILD_IMAGE:-public base images})"
compose build --quiet 2>/dev/null || compose build

# The offline workshop's recipe, as the README writes it: the images saved into one file, then
# loaded where there is no network; `up` then builds and pulls nothing.
prometheus_image=${FTLAB_PROMETHEUS_IMAGE:-prom/prometheus:v2.53.3}
images=("$FTLAB_IMAGE")
if docker image inspect "$prometheus_image" >/dev/null 2>&1; then images+=("$prometheus_image"); fi
bundle_dir=$(mktemp -d)
say "docker save -o ftlab-images.tar ${images[*]}   (the offline recipe)"
docker save -o "$bundle_dir/ftlab-images.tar" "${images[@]}"
say "$(du -m "$bundle_dir/ftlab-images.tar" | cut -f1) MB; docker rmi $FTLAB_IMAGE, then docker load -i ftlab-images.tar"
docker rmi "$FTLAB_IMAGE" >/dev/null
docker load -i "$bundle_dir/ftlab-images.tar"
rm -rf "$bundle_dir"
docker image inspect "$FTLAB_IMAGE" >/dev/null || { say "docker load did not bring $FTLAB_IMAGE back"; exit 1; }

say "docker compose up -d --no-build   (coordinators published on 127.0.0.1:$FTLAB_COORDINATOR_1_PORT and :$FTLAB_COORDINATOR_2_PORT)"
t0=$(ms)
compose up -d --no-build   # as the offline recipe types it: build nothing, the image is loaded
wait_for "the first answer" 60 first_answer
first=$(( $(ms) - t0 ))
say "first answer $first ms after up"
more_answers 10

# the env file's settings reached the containers, and JAVA_OPTS the JVM itself (the flag prints the
# JVM's flags when it starts)
if ! docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$(compose ps -q coordinator-1)" \
    | grep -x 'FTLAB_IO_THREADS=2' >/dev/null; then
  say "FTLAB_IO_THREADS from the env file did not reach coordinator-1's container"; exit 1
fi
for s in coordinator-1 node-1 client; do
  if ! compose logs --no-color "$s" | grep -F -- '-XX:+PrintCommandLineFlags' >/dev/null; then
    say "JAVA_OPTS from the env file did not reach $s's JVM"; exit 1
  fi
done
say "the env file's FTLAB_IO_THREADS reached coordinator-1, its JAVA_OPTS the JVMs of coordinator-1, node-1 and the client"

# each dashboard links to the other at the URL a browser on this host uses (FTLAB_DASHBOARDS)
dashboards_linked() {
  curl -sf "http://127.0.0.1:$FTLAB_COORDINATOR_1_HTTP_PORT/api/coordinators" \
    | grep -F "\"url\":\"http://127.0.0.1:$FTLAB_COORDINATOR_2_HTTP_PORT/\"" >/dev/null \
    && curl -sf "http://127.0.0.1:$FTLAB_COORDINATOR_2_HTTP_PORT/api/view" | grep -F '"coordinatorId":"coordinator-2"' >/dev/null
}
wait_for "coordinator-1's dashboard linking coordinator-2's" 10 dashboards_linked
say "coordinator-1's dashboard (127.0.0.1:$FTLAB_COORDINATOR_1_HTTP_PORT) links coordinator-2's (:$FTLAB_COORDINATOR_2_HTTP_PORT), which answers"

say "docker compose stop node-2   (SIGTERM: a graceful leave)"
compose stop node-2
expect_state node-2 LEFT coordinator-1 coordinator-2
more_answers 10

say "docker compose kill node-3   (SIGKILL: a crash)"
compose kill node-3
expect_state node-3 DEAD coordinator-1 coordinator-2
metrics_dead() {
  curl -sf "http://127.0.0.1:$FTLAB_COORDINATOR_1_HTTP_PORT/metrics" \
    | grep -E '^ftlab_node_state\{node="node-3",[^}]*state="DEAD"\} 1\.0$' >/dev/null
}
prom_query() { # PROMQL EXPECTED-VALUE
  curl -sf "http://127.0.0.1:$FTLAB_PROMETHEUS_PORT/api/v1/query" --data-urlencode "query=$1" \
    | grep -F ",\"$2\"]" >/dev/null
}
wait_for "coordinator-1's /metrics: node-3 DEAD" 10 metrics_dead
say "coordinator-1's /metrics (127.0.0.1:$FTLAB_COORDINATOR_1_HTTP_PORT) says node-3 DEAD"
wait_for "Prometheus: node-3 DEAD at both coordinators" 30 \
  prom_query 'count(ftlab_node_state{node="node-3",state="DEAD"} == 1)' 2
wait_for "Prometheus: both coordinators up" 30 prom_query 'count(up{job="coordinators"} == 1)' 2
say "Prometheus (127.0.0.1:$FTLAB_PROMETHEUS_PORT) sees node-3 DEAD at both coordinators"
more_answers 10

say "docker compose pause node-4  (frozen: its port stays open)"
compose pause node-4
expect_state node-4 DEAD coordinator-1 coordinator-2
more_answers 10

say "docker compose stop coordinator-1"
compose stop coordinator-1
more_answers 20

say "bringing everything back"
compose unpause node-4
compose start coordinator-1 node-2 node-3
for n in node-1 node-2 node-3 node-4 node-5; do expect_state "$n" ALIVE coordinator-1 coordinator-2; done
more_answers 10

partition_node_5
freeze_coordinator_1

# Lab 7 as a scenario against this lab (target: compose), from the host through the published
# ports: the pool scaled to 2 under a checked load, pool-1 and pool-2 ALIVE and answering, then
# scaled back to 0, each LEFT; zero failed; its verdict decides
say "./ftlab scenario run docs/labs/07-scale-out.yaml   (the compose lab, from the host: scale the pool out and in)"
rm -rf target/journey-scenario
./ftlab scenario run docs/labs/07-scale-out.yaml --dir target/journey-scenario \
  --compose "$COMPOSE -p $PROJECT --env-file $ENV_FILE" \
  -c "127.0.0.1:$FTLAB_COORDINATOR_1_PORT,127.0.0.1:$FTLAB_COORDINATOR_2_PORT"
more_answers 10

# The detection table's scenario (docs/benchmarks.md): every docker verb and in-app fault the
# compose runner knows, one at a time, each seen by both coordinators and mended; its verdict
# decides (and its figures are this machine's detection table)
say "./ftlab scenario run docs/scenarios/detection-compose.yaml   (stop, kill, pause, a network cut, crash, freeze, mute: each seen and mended)"
./ftlab scenario run docs/scenarios/detection-compose.yaml --dir target/journey-scenario \
  --compose "$COMPOSE -p $PROJECT --env-file $ENV_FILE" \
  -c "127.0.0.1:$FTLAB_COORDINATOR_1_PORT,127.0.0.1:$FTLAB_COORDINATOR_2_PORT"
more_answers 10

# A two-minute chaos soak on this lab (docs/scenarios.md): random docker and in-app faults from
# the seed, nodes and coordinators cut off the network among them, failover and vote in turn, under a checked load
# from the host (the lab's own client goes on beside it); its verdict decides
say "./ftlab soak --target compose --duration 2m --seed 21   (random faults with network cuts, under a checked load)"
./ftlab soak --target compose --duration 2m --seed 21 --dir target/journey-scenario \
  --compose "$COMPOSE -p $PROJECT --env-file $ENV_FILE" \
  --coordinator-addresses "127.0.0.1:$FTLAB_COORDINATOR_1_PORT,127.0.0.1:$FTLAB_COORDINATOR_2_PORT"
more_answers 10

# A compose scenario cut short (SIGTERM, what Ctrl-C sends) once node-2 is paused and node-4 cut
# off: the runner's clean-up unpauses and reconnects them, says so, and the lab answers on
cut=target/journey-scenario/cut-short
cat > "$cut.yaml" <<'YAML'
name: cut short
target: compose
load: {rate: 10, concurrency: 2, task: echo}
duration: 60s
timeline:
  - {at: 2s, do: pause, target: node-2}
  - {at: 2s, do: disconnect, target: node-4}
YAML
say "./ftlab scenario run $cut.yaml, then SIGTERM (Ctrl-C) once node-2 is paused and node-4 cut off"
./ftlab scenario run "$cut.yaml" --dir target/journey-scenario \
  --compose "$COMPOSE -p $PROJECT --env-file $ENV_FILE" \
  -c "127.0.0.1:$FTLAB_COORDINATOR_1_PORT,127.0.0.1:$FTLAB_COORDINATOR_2_PORT" > "$cut.out" 2>&1 &
cut_pid=$!
both_done() { [ "$(grep -c ': took effect after ' "$cut.out")" -ge 2 ]; }
wait_for "node-2 paused and node-4 cut off by the scenario" 40 both_done \
  || { cat "$cut.out"; exit 1; }
kill -TERM "$cut_pid"
wait "$cut_pid" || true
undone=$(grep -F '[scenario] undone: ' "$cut.out" || true)
case "$undone" in
  *"unpaused node-2"*"reconnected node-4"*) say "${undone#\[scenario\] }" ;;
  *) cat "$cut.out"; say "the cut-short scenario did not say it unpaused node-2 and reconnected node-4"; exit 1 ;;
esac
[ "$(docker inspect -f '{{.State.Paused}}' "$(compose ps -q node-2)")" = false ] \
  || { say "node-2 is still paused"; exit 1; }
docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$(compose ps -q node-4)" \
  | grep -qw "$FTLAB_NETWORK" || { say "node-4 is not on $FTLAB_NETWORK"; exit 1; }
expect_state node-2 ALIVE coordinator-1 coordinator-2
expect_state node-4 ALIVE coordinator-1 coordinator-2
more_answers 10

client_passed

# FTLAB_JOURNEY_KEEP_LOGS=1 keeps every service's whole log of a passing journey too
if [ -n "${FTLAB_JOURNEY_KEEP_LOGS:-}" ]; then save_logs; fi
say "docker compose --profile pool --profile observability down -v"
down_all
nothing_left
say "PASS: first answer $first ms after up; zero failed and zero wrong answers through stop, kill, pause, a coordinator stop, a partition and a frozen coordinator; lab 7's scenario passed (the pool scaled out and in), and the detection scenario (every docker verb and in-app fault); nothing left behind"
