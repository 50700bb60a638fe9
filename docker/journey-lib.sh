# Shared by the compose journeys (journey.sh, journey-tls.sh): free ports, waiting, and reading
# the lab's state through the client container. The caller defines compose() first.

# A journey's own published ports, not the lab's 7001/7002, so that a lab or a local cluster already
# running here does not stop it: free ones below the kernel's ephemeral range (32768 up), where no
# outgoing connection can take them meanwhile.
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$(( 20000 + RANDOM % 12000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  echo "found no free port on 127.0.0.1" >&2; return 1
}
taken=" "
pick_port() { # VAR: a free port, distinct from the ones picked before, unless VAR is set
  local var=$1 p=${!1:-}
  if [ -z "$p" ]; then
    p=$(free_port)
    while [[ "$taken" == *" $p "* ]]; do p=$(free_port); done
  fi
  taken="$taken$p "
  printf -v "$var" '%s' "$p"
  export "${var?}"
}
ms() { echo $(( $(date +%s%N) / 1000000 )); }
say() { echo "[journey $(date +%T)] $*"; }

# waits (polling every 0.5 s, at most $2 seconds) until the command in $3... succeeds
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then say "timed out after ${seconds}s waiting for: $what"; return 1; fi
    sleep 0.5
  done
}

answers() { compose logs --no-color client 2>/dev/null | grep -c ' verified ' || true; }
at_least_answers() { [ "$(answers)" -ge "$1" ]; }
more_answers() { # N: wait for N more verified answers in the client's output
  local target=$(( $(answers) + $1 ))
  wait_for "$1 more answers" 60 at_least_answers "$target"
}
# the state of a node as one coordinator sees it, asked with the CLI inside the client container
state_at() { # NODE COORDINATOR
  compose exec -T client /app/entrypoint ftlab status --coordinators "$2:7001" 2>/dev/null \
    | awk -v n="$1" '$1==n {print $2}'
}
is_state() { [ "$(state_at "$1" "$3")" = "$2" ]; }
expect_state() { # NODE STATE COORDINATOR...
  local node=$1 state=$2; shift 2
  for c in "$@"; do
    wait_for "$node $state at $c" 30 is_state "$node" "$state" "$c"
    say "$c sees $node $state"
  done
}
first_answer() { compose logs --no-color client 2>/dev/null | grep ' verified ' >/dev/null; }

# stops the client and fails unless its final summary says PASS with 0 failed and 0 wrong, and no
# answer line said FAILED or WRONG
client_passed() {
  say "stopping the client: its final summary"
  compose stop client
  local summary
  summary=$(compose logs --no-color client | grep '== ' | tail -1)
  echo "$summary"
  case "$summary" in
    *"== PASS"*" 0 failed, 0 wrong"*) ;;
    *) say "the client did not pass: $summary"; exit 1 ;;
  esac
  if compose logs --no-color client | grep -E ' (FAILED|WRONG) ' >/dev/null; then
    say "the client printed FAILED or WRONG answers"; exit 1
  fi
}

# fails if the project ($PROJECT) left containers, networks or volumes behind
nothing_left() {
  local left nets vols
  left=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" | wc -l)
  nets=$(docker network ls -q --filter "label=com.docker.compose.project=$PROJECT" | wc -l)
  vols=$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT" | wc -l)
  if [ "$left$nets$vols" != "000" ]; then
    say "left behind: $left containers, $nets networks, $vols volumes"; exit 1
  fi
}

# Lab 1b: node-5 cut off the network ($FTLAB_NETWORK) for 12 s, DEAD at both coordinators, then
# back, ALIVE and answering again
partition_node_5() {
  say "Lab 1b: docker network disconnect $FTLAB_NETWORK node-5   (a partition, held 12 s)"
  docker network disconnect "$FTLAB_NETWORK" "$(compose ps -q node-5)"
  expect_state node-5 DEAD coordinator-1 coordinator-2
  more_answers 10
  sleep 12 # the partition's length: long enough for its name lookups to fail (architecture.md)
  say "docker network connect --alias node-5 $FTLAB_NETWORK node-5"
  docker network connect --alias node-5 "$FTLAB_NETWORK" "$(compose ps -q node-5)"
  expect_state node-5 ALIVE coordinator-1 coordinator-2
  wait_for "node-5 answering again" 60 node_more node-5 $(( $(node_answers node-5) + 3 ))
  say "node-5 answers again"
}
node_answers() { compose logs --no-color client 2>/dev/null | grep -cE " verified +$1 " || true; }
node_more() { [ "$(node_answers "$1")" -ge "$2" ]; }

# Lab 1c: coordinator-1 paused (frozen, its port open): the client goes on through coordinator-2,
# and coordinator-1, unpaused, says its detector did not run instead of suspecting every node
freeze_coordinator_1() {
  say "Lab 1c: docker compose pause coordinator-1   (frozen: the client goes to coordinator-2)"
  local before
  before=$(detector_stalls)
  compose pause coordinator-1
  more_answers 15
  compose unpause coordinator-1
  wait_for "coordinator-1 saying its detector did not run while paused" 15 detector_stalled_since "$before"
  say "coordinator-1: $(compose logs --no-color coordinator-1 | grep -oE 'failure detector did not run for [0-9]+ ms' | tail -1) (it restarts its silence clocks instead of suspecting every node)"
  more_answers 10
}
detector_stalls() { compose logs --no-color coordinator-1 2>/dev/null | grep -cF 'failure detector did not run for' || true; }
detector_stalled_since() { [ "$(detector_stalls)" -gt "$1" ]; }

# N more nodes from the pool service (pool-1 ... pool-N): ALIVE at both coordinators, and one of
# them computing an answer the client verified
scale_pool() { # N
  say "docker compose up -d --scale pool=$1 pool   (more nodes: pool-1 to pool-$1)"
  compose up -d --scale "pool=$1" pool
  local n
  for n in $(seq 1 "$1"); do expect_state "pool-$n" ALIVE coordinator-1 coordinator-2; done
  wait_for "an answer computed by a pool node" 60 pool_answered
  say "the client got an answer from $(compose logs --no-color client | grep -oE ' verified +pool-[0-9]+ ' | head -1 | awk '{print $2}')"
}
pool_answered() { compose logs --no-color client 2>/dev/null | grep -E ' verified +pool-[0-9]+ ' >/dev/null; }
