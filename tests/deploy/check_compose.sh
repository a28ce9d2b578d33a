#!/usr/bin/env bash
# Checks deploy/docker-compose.yml without Docker (containers may not run here):
#  - static: no service borrows another's network namespace; the scheduler and the workers share
#    a compose network and the workers dial the scheduler by its service name and --listen port;
#    a non-loopback --listen comes with --init-admin-token (the listening policy); Prometheus
#    scrapes the scheduler by name on its --http port with a token; Grafana's datasource names
#    the Prometheus service; every secret a service uses is declared; every de-scheduler and
#    de-worker flag used in deploy/ (compose, systemd units, Dockerfile) is one the binary has.
#  - live: the compose file's own scheduler and worker commands (paths and ports swapped for
#    temporary ones, the worker dialling a host name) run here: a run succeeds, the scheduler is
#    kill -9ed and restarted on its port, and a second run succeeds: the worker came back alone.
# Usage: check_compose.sh DE_SCHEDULER DE_WORKER DECTL
set -euo pipefail
SCHEDULER=${1:?usage: check_compose.sh DE_SCHEDULER DE_WORKER DECTL}
WORKER=${2:?usage}
DECTL=${3:?usage}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEPLOY=$ROOT/deploy
COMPOSE=$DEPLOY/docker-compose.yml
fail() { echo "check_compose: $*" >&2; exit 1; }
command -v yq >/dev/null || fail "yq not found (Debian package yq; scripts/deps.sh)"
y() { yq -r "$1" "$COMPOSE"; }

# --- static ---------------------------------------------------------------------------------
[ -z "$(y '.services[] | .network_mode // empty')" ] ||
  fail "a service uses network_mode: it would be stranded when the other container restarts"
sched_cmd=$(y '.services.scheduler.command | join(" ")')
listen=$(sed -n 's/.*--listen \([^ ]*\).*/\1/p' <<<"$sched_cmd")
http=$(sed -n 's/.*--http \([^ ]*\).*/\1/p' <<<"$sched_cmd")
[ -n "$listen" ] && [ -n "$http" ] || fail "the scheduler command has no --listen or --http"
case "${listen%:*}" in
  127.* | localhost | "[::1]") fail "the scheduler listens on loopback ($listen): no other container reaches it" ;;
esac
grep -q -- '--init-admin-token' <<<"$sched_cmd" ||
  fail "a non-loopback --listen needs tokens (--init-admin-token): the scheduler would refuse to start"
grep -q -- '--insecure-allow-plaintext\|--tls-cert' <<<"$sched_cmd" ||
  fail "tokens beyond loopback need --tls-cert or --insecure-allow-plaintext"
sched_nets=$(y '.services.scheduler.networks // [] | .[]' | sort)
[ -n "$sched_nets" ] || fail "the scheduler is on no compose network"
workers=$(y '.services | to_entries[] | select((.value.command // []) | join(" ") | test("de-worker")) | .key')
[ -n "$workers" ] || fail "no worker services"
for w in $workers; do
  cmd=$(y ".services[\"$w\"].command | join(\" \")")
  target=$(sed -n 's/.*--scheduler \([^ ]*\).*/\1/p' <<<"$cmd")
  [ "$target" = "scheduler:${listen##*:}" ] ||
    fail "$w dials '$target', not the scheduler service on its port (scheduler:${listen##*:})"
  shared=$(comm -12 <(echo "$sched_nets") <(y ".services[\"$w\"].networks // [] | .[]" | sort))
  [ -n "$shared" ] || fail "$w shares no network with the scheduler"
  grep -q 'DE_TOKEN=' <<<"$cmd" || fail "$w sends no token (the scheduler has tokens)"
done
for s in $(y '.services[] | .secrets // [] | .[]' | sort -u); do
  [ "$(y ".secrets[\"$s\"].file // empty")" != "" ] || fail "secret $s is used but not declared"
done
prom_cfg=$(y '.services.prometheus.volumes[] | select(test(":/etc/prometheus/prometheus.yml")) | split(":")[0]')
prom_cfg=$DEPLOY/${prom_cfg#./}
[ -f "$prom_cfg" ] || fail "Prometheus's config $prom_cfg does not exist"
[ "$(yq -r '.scrape_configs[0].static_configs[0].targets[0]' "$prom_cfg")" = "scheduler:${http##*:}" ] ||
  fail "$prom_cfg does not scrape scheduler:${http##*:}"
cred=$(yq -r '.scrape_configs[0].authorization.credentials_file // empty' "$prom_cfg")
[ -n "$cred" ] || fail "$prom_cfg scrapes without a token (the scheduler has tokens)"
grep -q 'url: http://prometheus:9090' "$DEPLOY/grafana/provisioning/datasources/de.yml" ||
  fail "Grafana's datasource does not name the prometheus service"

WORK=$(mktemp -d)
SPID=""
WPID=""
cleanup() {
  for p in $SPID $WPID; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
# promtool wants the credentials file to exist: check a copy pointing at a temporary one.
echo token >"$WORK/metrics.token"
sed "s|$cred|$WORK/metrics.token|" "$prom_cfg" >"$WORK/prometheus.yml"
cp "$DEPLOY/alerts.yml" "$WORK/alerts.yml"
promtool check config "$WORK/prometheus.yml" >/dev/null || fail "promtool rejects $prom_cfg"

# Every flag of de-scheduler and de-worker used anywhere in deploy/ exists.
"$SCHEDULER" --help >"$WORK/sched.help" 2>&1 || true
"$WORKER" --help >"$WORK/worker.help" 2>&1 || true
for f in "$DEPLOY"/docker-compose.yml "$DEPLOY"/*.service "$DEPLOY"/Dockerfile; do
  for bin in de-scheduler de-worker; do
    help=$WORK/sched.help
    [ "$bin" = de-worker ] && help=$WORK/worker.help
    for flag in $(grep -o "$bin[^]#]*" "$f" | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
      grep -q -- "$flag\b" "$help" || fail "$f passes $flag to $bin, which has no such flag"
    done
  done
done

# --- live: the compose commands, a restart of the scheduler -----------------------------------
openssl rand -hex 32 >"$WORK/admin.token"
cp "$WORK/admin.token" "$WORK/worker.token"
mkdir -p "$WORK/home" "$WORK/data"
port=0
start_scheduler() {
  rm -f "$WORK/home/scheduler.addr"
  # The compose command with the home, the token file and the ports swapped (port 0 first).
  local cmd
  cmd=$(sed -e "s|/var/lib/de/home|$WORK/home|" -e "s|/run/secrets/de_admin_token|$WORK/admin.token|" \
    -e "s|--listen \([^ :]*\):[0-9]*|--listen \1:$port|" -e "s|--http \([^ :]*\):[0-9]*|--http 127.0.0.1:0|" \
    -e "s|^de-scheduler|$SCHEDULER|" <<<"$sched_cmd")
  $cmd >>"$WORK/scheduler.log" 2>&1 &
  SPID=$!
  for _ in $(seq 1 300); do
    [ -s "$WORK/home/scheduler.addr" ] && break
    kill -0 "$SPID" 2>/dev/null || fail "the compose scheduler command exits: $(tail -3 "$WORK/scheduler.log")"
    sleep 0.1
  done
  [ -s "$WORK/home/scheduler.addr" ] || fail "de-scheduler did not write scheduler.addr"
  port=$(sed 's/.*://' "$WORK/home/scheduler.addr")
}
start_scheduler
first=$(echo "$workers" | head -1)
wcmd=$(y ".services[\"$first\"].command[-1]" | sed -e 's/\$\$/$/g' \
  -e "s|/run/secrets/de_worker_token|$WORK/worker.token|" -e "s|--scheduler [^ ]*|--scheduler localhost:$port|" \
  -e "s|/var/lib/de/data|$WORK/data|" -e "s|exec de-worker|exec $WORKER|")
sh -c "$wcmd" >>"$WORK/worker.log" 2>&1 &
WPID=$!
cat >"$WORK/compose_check.yaml" <<'EOF'
dag: compose_check
schedule: null
tasks:
  - { id: hello, type: shell, with: { command: "echo hello from the worker" } }
EOF
ctl() { DE_TOKEN=$(cat "$WORK/admin.token") timeout 60 "$DECTL" --server "127.0.0.1:$port" "$@"; }
ctl dag submit "$WORK/compose_check.yaml" >/dev/null
ctl trigger compose_check --wait >"$WORK/run1.out" 2>&1 ||
  fail "a run did not succeed on the compose commands: $(cat "$WORK/run1.out") $(tail -5 "$WORK/worker.log")"
kill -9 "$SPID"
wait "$SPID" 2>/dev/null || true
start_scheduler
ctl trigger compose_check --wait >"$WORK/run2.out" 2>&1 ||
  fail "after a scheduler restart the worker did not come back: $(cat "$WORK/run2.out") $(tail -5 "$WORK/worker.log")"
kill -0 "$WPID" 2>/dev/null || fail "the worker exited"
echo "check_compose: ok (workers dial scheduler:${listen##*:} on network $sched_nets; a run succeeded before and after kill -9 and restart of the scheduler)"
