#!/usr/bin/env bash
# The secure compose journey: the lab with docker-compose.tls.yml (mutual TLS on every link),
# checked: the certificates made by the certs service, answers flowing, `ftlab status` saying
# mutual TLS; node-5 cut off the network and coordinator-1 paused (every link re-handshaking) with
# zero failed requests, and a pool node joining with its own certificate (node kills and
# coordinator stops with TLS: ContainerChaosIT's TLS run); the
# rogue node (profile rogue: node-1's id, node-5's certificate) refused by identity at both
# coordinators while node-1 keeps answering; `ftlab revoke node-2` taking node-2 out at once, node-1
# keeping it in its own volume (told by a coordinator), and coordinator-1 still refusing it after a restart (each coordinator keeps its revocations in its own
# volume); each container holding only its own key; then down -v, leaving nothing behind (the
# certificates' volumes included).
# Builds the image as journey.sh does (FTLAB_IMAGE, default ftlab:journey; cached after it).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${COMPOSE:-}" ]; then
  if docker compose version >/dev/null 2>&1; then COMPOSE="docker compose"; else COMPOSE=docker-compose; fi
fi
PROJECT=ftlab-journey-tls
export FTLAB_NETWORK=ftlab-journey-tls
export FTLAB_IMAGE=${FTLAB_IMAGE:-ftlab:journey}
# the files' defaults, not a .env in the checkout or the caller's profiles (they would change what
# is tested, or leave containers down_all does not name)
ENV_FILE=$(mktemp)
unset COMPOSE_PROFILES COMPOSE_FILE
compose() { $COMPOSE -p "$PROJECT" --env-file "$ENV_FILE" -f docker-compose.yml -f docker-compose.tls.yml "$@"; }
# shellcheck source=docker/journey-lib.sh
. docker/journey-lib.sh
pick_port FTLAB_COORDINATOR_1_PORT
pick_port FTLAB_COORDINATOR_2_PORT
pick_port FTLAB_COORDINATOR_1_HTTP_PORT
pick_port FTLAB_COORDINATOR_2_HTTP_PORT

down_all() { COMPOSE_PROFILES=rogue,pool compose down -v --remove-orphans; }
cleanup() {
  status=$?
  if [ $status -ne 0 ]; then
    say "FAILED; the last lines of the client, the coordinators and the rogue:"
    COMPOSE_PROFILES=rogue compose logs --no-color --tail=40 certs client coordinator-1 coordinator-2 rogue 2>/dev/null || true
    say "the client's requests that did not end verified, and its 5 s lines with failures:"
    compose logs --no-color client 2>/dev/null | grep -E '^[^|]*\| #' | grep -v ' verified ' | tail -40 || true
    compose logs --no-color client 2>/dev/null | grep -E 'last 5 s: [0-9]+ ok, [1-9]' | tail -20 || true
  fi
  down_all >/dev/null 2>&1 || true
  rm -f "$ENV_FILE"
  exit $status
}
trap cleanup EXIT

say "building the image $FTLAB_IMAGE (Docker's cache makes it quick after journey.sh)"
compose build --quiet 2>/dev/null || compose build

say "docker compose -f docker-compose.yml -f docker-compose.tls.yml up -d --no-build"
compose up -d --no-build
wait_for "the first answer" 90 first_answer
say "first answer; the certs service said: $(compose logs --no-color certs | grep -oE '[0-9]+ certificates; keys' | head -1)"
more_answers 10

security_line() { # COORDINATOR: its 'security:' line in ftlab status
  compose exec -T client /app/entrypoint ftlab status --coordinators "$1:7001" 2>/dev/null | grep '^security: ' || true
}
line=$(security_line coordinator-1)
case "$line" in
  "security: mutual TLS as coordinator coordinator-1 (spiffe://ftlab/coordinator/coordinator-1); "*) ;;
  *) say "coordinator-1's status does not say mutual TLS: $line"; exit 1 ;;
esac
say "$line"

# each process has a volume with only its own key; the authority's stays in the certs service's
folder_of() { compose exec -T "$1" sh -c 'ls -A /certs' 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
for pair in "coordinator-1:ca.pem coordinator-1.key coordinator-1.pem" \
            "node-1:ca.pem node-1.key node-1.pem" \
            "client:admin.key admin.pem ca.pem client.key client.pem"; do
  service=${pair%%:*}
  files=$(folder_of "$service")
  [ "$files" = "${pair#*:}" ] || { say "$service's /certs holds '$files', not '${pair#*:}'"; exit 1; }
  say "$service's /certs: $files"
done

# faults whose recovery re-handshakes every link: a partition (the node's connections and name
# lookups fail, then come back), a frozen coordinator, and a pool node that gets its certificate
# from the pool's volume (pool-1). (A node killed and started, a coordinator stopped and started,
# with TLS: ContainerChaosIT's TLS run; the plaintext journey does stop, kill and pause.)
partition_node_5
freeze_coordinator_1
scale_pool 1
more_answers 10

say "docker compose --profile rogue up -d rogue   (node-1's id, node-5's certificate)"
compose --profile rogue up -d --no-build rogue
refused_by_identity() { # COORDINATOR
  local line
  line=$(security_line "$1")
  echo "$line" | grep -E 'refused: ([^;]*, )?[0-9]+ by identity(, [^;]*)?; latest, ' >/dev/null \
    && echo "$line" | grep -F "identity refused node node-5 at " >/dev/null \
    && echo "$line" | grep -F "(heartbeat as 'node-1'): the certificate of node node-5 speaks for node-5 only, not for 'node-1'" >/dev/null
}
for c in coordinator-1 coordinator-2; do
  wait_for "$c refusing the rogue by identity" 60 refused_by_identity "$c"
  say "$c: $(security_line "$c" | grep -oE 'refused: [^;]*')"
done
rogue_told() { compose logs --no-color rogue 2>/dev/null | grep -F "speaks for node-5 only, not for 'node-1'" >/dev/null; }
wait_for "the rogue's log saying why it is refused" 30 rogue_told
for c in coordinator-1 coordinator-2; do
  addr=$(compose exec -T client /app/entrypoint ftlab status --coordinators "$c:7001" 2>/dev/null | awk '$1=="node-1" {print $3}')
  [ "$addr" = "node-1:7101" ] || { say "node-1's address at $c is $addr, not node-1:7101"; exit 1; }
done
node1_answers() { compose logs --no-color client 2>/dev/null | grep -cE ' verified +node-1 ' || true; }
node1_more() { [ "$(node1_answers)" -ge "$1" ]; }
wait_for "node-1 answering while the rogue claims its id" 60 node1_more $(( $(node1_answers) + 3 ))
say "node-1 keeps answering; the rogue's own log: $(compose logs --no-color rogue | grep -F 'speaks for node-5 only' | head -1 | sed 's/^[^|]*| *//' | cut -c1-160)"
compose --profile rogue stop rogue

say "docker compose exec client ftlab revoke node-2"
compose exec -T client /app/entrypoint ftlab revoke node-2
expect_state node-2 LEFT coordinator-1 coordinator-2
# the nodes heard of it in the coordinators' heartbeat replies, and keep it in their own volume
node_heard() { compose exec -T node-1 cat /certs/revoked 2>/dev/null | grep -E '^node-2  # told by coordinator-[12]$' >/dev/null; }
wait_for "node-1 keeping node-2's revocation in its own volume" 15 node_heard
say "node-1's /certs/revoked: $(compose exec -T node-1 grep '^node-2' /certs/revoked)"
more_answers 10
# each coordinator kept it in its own volume (the CLI wrote into its own): after a restart,
# coordinator-1 still refuses node-2
say "docker compose restart coordinator-1"
compose restart coordinator-1
revoked_at_start() { # read from its own revoked file, and node-2's beats refused for it
  security_line coordinator-1 | grep -E '[0-9]+ by revocation.*; revoked: ([^;]*, )?node-2(,|$)' >/dev/null
}
wait_for "coordinator-1 refusing node-2 after its restart" 60 revoked_at_start \
  || { say "coordinator-1's security line: $(security_line coordinator-1)"; exit 1; }
say "coordinator-1 after its restart: $(security_line coordinator-1 | grep -oE 'refused: [^;]*'); revoked: node-2"
more_answers 10

client_passed

say "docker compose ... --profile rogue down -v"
down_all
nothing_left
say "PASS (TLS): mutual TLS on every link; zero failed and zero wrong answers through a partition and a frozen coordinator; pool-1 joined with its own certificate; the rogue refused by identity at both coordinators; node-2 revoked, still after a coordinator's restart; one key per container; nothing left behind"
