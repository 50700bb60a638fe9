#!/usr/bin/env bash
# The Swarm journey: docker-stack.yml on a one-machine swarm, checked (docs/multi-host.md).
#   deploy (2 coordinators, 3 nodes, the client), answers flow, kill node-2's container: DEAD at
#   both coordinators, the client goes on; Swarm starts a replacement in node-2's slot, which joins
#   by heartbeat as node-2 with a new incarnation and address and answers again; scale the nodes to
#   4 (node-4 joins); the client's summary: 0 failed, 0 wrong; `docker stack rm` leaves nothing.
# On an engine that is not in a swarm, it makes a one-machine swarm (docker swarm init
# --advertise-addr 127.0.0.1) and leaves it at the end; on one that is, it deploys there as its own
# stack (ftlab-journey-swarm) and leaves the swarm as it was.
# Needs the image: FTLAB_IMAGE (default ftlab:journey, which docker/journey.sh builds; built here
# if missing, with FTLAB_BUILD_IMAGE and FTLAB_RUNTIME_IMAGE as base images when set).
set -euo pipefail
cd "$(dirname "$0")/.."

STACK=ftlab-journey-swarm
export FTLAB_IMAGE=${FTLAB_IMAGE:-ftlab:journey}
export FTLAB_NETWORK=$STACK FTLAB_NODES=3 FTLAB_CLIENT_RATE=10
# shellcheck source=docker/journey-lib.sh
. docker/journey-lib.sh
pick_port FTLAB_COORDINATOR_1_PORT
pick_port FTLAB_COORDINATOR_2_PORT
pick_port FTLAB_COORDINATOR_1_HTTP_PORT
pick_port FTLAB_COORDINATOR_2_HTTP_PORT

# the stack's containers (every task's, running or not), and one service's running task's
stack_containers() { docker ps -aq --filter "label=com.docker.stack.namespace=$STACK"; }
task_container() { # SERVICE SLOT: the container of the slot's task that should run
  docker ps -q --filter "label=com.docker.swarm.task.id=$(task_id "$1" "$2")"
}
task_id() { # SERVICE SLOT: the id of the slot's task that should run
  docker service ps -q --no-trunc --filter desired-state=running "${STACK}_$1" \
    --format '{{.Name}} {{.ID}}' | awk -v n="${STACK}_$1.$2" '$1==n {print $2}' | tail -1
}
client_container() { task_container client 1; }
no_containers() { [ -z "$(stack_containers)" ]; }
gone() { no_containers && ! docker network inspect "$STACK" >/dev/null 2>&1; }
# docker stack rm removes the services and then, at once, the network, which Swarm refuses while a
# task's container is still stopping on it ("network ... is in use by task", moby/moby#30942): the
# command returns before the tasks are gone. So on that refusal: wait until the stack's containers
# are gone, then remove again what is left of the stack (its network).
stack_rm() {
  local out
  out=$(docker stack rm "$STACK" 2>&1) && return 0
  case "$out" in
    *"is in use by"*) ;;
    *) say "docker stack rm $STACK failed: $out"; return 1 ;;
  esac
  say "the network was still in use by a stopping task: docker stack rm again once the containers are gone"
  wait_for "the stack's containers gone" 60 no_containers
  wait_for "docker stack rm to remove the stack's network" 30 removed_again
}
removed_again() { docker stack rm "$STACK" >/dev/null 2>&1; gone; }
summary_printed() { docker service logs --raw "${STACK}_client" 2>/dev/null | grep -F '== ' >/dev/null; }

answers() { docker service logs --raw "${STACK}_client" 2>/dev/null | grep -c ' verified ' || true; }
first_answer() { [ "$(answers)" -ge 1 ]; }
node_answers() { docker service logs --raw "${STACK}_client" 2>/dev/null | grep -cE " verified +$1 " || true; }
node_more() { [ "$(node_answers "$1")" -ge "$2" ]; }
status_at() { # COORDINATOR: ftlab status, asked from inside the client's container
  docker exec "$(client_container)" /app/entrypoint ftlab status --coordinators "$1:7001" 2>/dev/null
}
state_at() { status_at "$2" | awk -v n="$1" '$1==n {print $2}'; }
address_at() { status_at "$2" | awk -v n="$1" '$1==n {print $3}'; }
# lines of a coordinator's log that match (its transitions: "node-2 SUSPECT -> DEAD: ...");
# read from the log, not polled from ftlab status: Swarm's replacement can end a DEAD state within
# a few seconds, before a poll through docker exec sees it
log_lines() { # COORDINATOR REGEX
  docker service logs --raw "${STACK}_$1" 2>/dev/null | grep -E "$2" || true
}
# "02:12:33.123 INFO  coordinator node-2 SUSPECT -> DEAD: ..." as "02:12:33.123 node-2 SUSPECT -> ..."
said() { sed -E 's/^([0-9:.]+) +[A-Z]+ +coordinator +/\1 /'; }
logged_since() { # COORDINATOR REGEX COUNT: more than COUNT matching lines
  [ "$(log_lines "$1" "$2" | wc -l)" -gt "$3" ]
}
replaced() { # NODE COORDINATOR OLD-ADDRESS: ALIVE at another address than before (one status call)
  local row
  row=$(status_at "$2" | awk -v n="$1" '$1==n {print $2, $3}')
  [ "${row%% *}" = ALIVE ] && [ -n "${row#* }" ] && [ "${row#* }" != "$3" ]
}

made_swarm=""
cleanup() {
  status=$?
  if [ $status -ne 0 ]; then
    say "FAILED; the client's last lines and the services' tasks:"
    docker service logs --raw --tail 30 "${STACK}_client" 2>/dev/null || true
    docker stack ps --no-trunc "$STACK" 2>/dev/null || true
    mkdir -p target
    for s in coordinator-1 coordinator-2 node client; do
      docker service logs --timestamps "${STACK}_$s" >"target/journey-swarm-$s.txt" 2>&1 || true
    done
    say "the services' logs: $PWD/target/journey-swarm-*.txt"
  fi
  stack_rm || true
  wait_for "the stack's containers and network gone" 60 gone || true
  if [ -n "$made_swarm" ]; then
    docker swarm leave --force >/dev/null 2>&1 || true
  fi
  exit $status
}
trap cleanup EXIT
trap 'say "stopped at line $LINENO: $BASH_COMMAND"' ERR

if ! docker image inspect "$FTLAB_IMAGE" >/dev/null 2>&1; then
  say "building $FTLAB_IMAGE (${FTLAB_BUILD_IMAGE:-public base images})"
  docker build -q ${FTLAB_BUILD_IMAGE:+--build-arg BUILD_IMAGE=$FTLAB_BUILD_IMAGE} \
    ${FTLAB_RUNTIME_IMAGE:+--build-arg RUNTIME_IMAGE=$FTLAB_RUNTIME_IMAGE} -t "$FTLAB_IMAGE" . >/dev/null
fi

swarm_state=$(docker info --format '{{.Swarm.LocalNodeState}}')
case "$swarm_state" in
  inactive)
    say "docker swarm init --advertise-addr 127.0.0.1   (a one-machine swarm, left at the end)"
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
    made_swarm=yes ;;
  active)
    [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] \
      || { say "this engine is a swarm worker: run the journey on a manager"; exit 1; }
    say "this engine is already a swarm manager: deploying there as the stack $STACK" ;;
  *) say "this engine's swarm is '$swarm_state': neither in a swarm nor a manager of one"; exit 1 ;;
esac
if ! gone; then # the journey's own stack, left by a run that was killed: take it away
  say "a stack $STACK is left from an earlier run: docker stack rm $STACK"
  stack_rm || true
  wait_for "the earlier run's containers and network gone" 60 gone
fi

say "docker stack deploy -c docker-stack.yml $STACK   ($FTLAB_NODES nodes; coordinator-1 on port $FTLAB_COORDINATOR_1_PORT)"
t0=$(ms)
docker stack deploy -c docker-stack.yml "$STACK" >/dev/null
wait_for "the first answer" 120 first_answer
say "first answer $(( $(ms) - t0 )) ms after deploy"
more_answers 10
for n in node-1 node-2 node-3; do expect_state "$n" ALIVE coordinator-1 coordinator-2; done

# the dashboard is published on this machine (host mode), as docs/multi-host.md says
curl -sf "http://127.0.0.1:$FTLAB_COORDINATOR_1_HTTP_PORT/api/view" | grep -F '"coordinatorId":"coordinator-1"' >/dev/null \
  || { say "coordinator-1's dashboard does not answer on 127.0.0.1:$FTLAB_COORDINATOR_1_HTTP_PORT"; exit 1; }
say "coordinator-1's dashboard answers on 127.0.0.1:$FTLAB_COORDINATOR_1_HTTP_PORT"

old_address=$(address_at node-2 coordinator-1)
[ -n "$old_address" ] || { say "ftlab status gave no address for node-2"; exit 1; }
old_task=$(task_id node 2)
victim=$(task_container node 2)
[ -n "$victim" ] || { say "found no running container for node-2's task"; exit 1; }
dead_re='node-2 [A-Z]+ -> DEAD: '
back_re='node-2 DEAD -> ALIVE: restarted'
declare -A dead_before back_before
for c in coordinator-1 coordinator-2; do
  dead_before[$c]=$(log_lines "$c" "$dead_re" | wc -l)
  back_before[$c]=$(log_lines "$c" "$back_re" | wc -l)
done
say "docker kill <node-2's container> at $(date +%T.%3N)   (SIGKILL: a crash; node-2 at $old_address)"
docker kill "$victim" >/dev/null
for c in coordinator-1 coordinator-2; do
  wait_for "node-2 DEAD at $c" 30 logged_since "$c" "$dead_re" "${dead_before[$c]}"
  say "$c's log: $(log_lines "$c" "$dead_re" | tail -1 | said)"
done
more_answers 10
say "Swarm replaces the task: waiting for node-2 back at both coordinators, at a new address"
for c in coordinator-1 coordinator-2; do
  wait_for "node-2 restarted at $c" 90 logged_since "$c" "$back_re" "${back_before[$c]}"
  say "$c's log: $(log_lines "$c" "$back_re" | tail -1 | said)"
  wait_for "node-2 ALIVE at $c at a new address" 30 replaced node-2 "$c" "$old_address"
  say "$c sees node-2 ALIVE at $(address_at node-2 "$c") (was $old_address)"
done
new_task=$(task_id node 2)
[ -n "$new_task" ] && [ "$new_task" != "$old_task" ] || { say "node-2's task is still $old_task: Swarm did not replace it"; exit 1; }
docker service ps "${STACK}_node" --filter name="${STACK}_node.2" --format '  {{.Name}} {{.CurrentState}} {{.Error}}'
wait_for "node-2 answering again" 60 node_more node-2 $(( $(node_answers node-2) + 3 ))
say "node-2 (task $new_task) answers again"

say "docker service scale ${STACK}_node=4   (one more node: node-4)"
docker service scale -d "${STACK}_node=4" >/dev/null
expect_state node-4 ALIVE coordinator-1 coordinator-2
wait_for "node-4 answering" 60 node_more node-4 1
more_answers 10

say "stopping the client (docker service scale ${STACK}_client=0): its final summary"
docker service scale -d "${STACK}_client=0" >/dev/null
wait_for "the client's summary" 30 summary_printed
summary=$(docker service logs --raw "${STACK}_client" | grep '== ' | tail -1)
echo "$summary"
case "$summary" in
  *"== PASS"*" 0 failed, 0 wrong"*) ;;
  *) say "the client did not pass: $summary"; exit 1 ;;
esac
if docker service logs --raw "${STACK}_client" | grep -E ' (FAILED|WRONG) ' >/dev/null; then
  say "the client printed FAILED or WRONG answers"; exit 1
fi

say "docker stack rm $STACK"
stack_rm
wait_for "the stack's containers and network gone" 60 gone
say "nothing left: no container of the stack, no network $STACK"
say "PASS"
