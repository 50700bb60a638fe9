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
