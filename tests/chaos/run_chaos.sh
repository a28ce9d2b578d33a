#!/usr/bin/env bash
# The chaos suite: a real de-scheduler and three de-workers on a temporary DE_HOME (lease 2s,
# heartbeat 500ms), a workload of waves of 1,000 shell task instances (4 DAGs of 25 tasks, 10
# runs each), and ROUNDS kill -9s of the scheduler or a worker at random moments (a seeded RNG:
# the same SEED replays the same choices and delays), each victim restarted after a random pause.
# A new wave is triggered whenever the previous one has finished and rounds remain. After the
# last round everything is left running until every run has ended, then tests/chaos/check.sh
# checks the database and the execution records (see there for what "overlap" means).
#
# Usage: tests/chaos/run_chaos.sh ROUNDS SEED
# Env: DE_SCHEDULER, DE_WORKER, DECTL (binaries; default $BUILD_DIR or build/), CHAOS_RUNS (runs
#      per DAG and wave, 10), CHAOS_GAP_MS (max pause between kills, 2500), CHAOS_DRAIN (seconds
#      allowed for the runs to end after the last round, 240), CHAOS_KEEP=1 (keep the work dir).
# Exits 0 when every check passes, 1 when one fails (the summary says which), 2 on a setup error.
set -euo pipefail
ROUNDS=${1:?usage: run_chaos.sh ROUNDS SEED}
SEED=${2:?usage: run_chaos.sh ROUNDS SEED}
[[ "$ROUNDS" =~ ^[0-9]+$ && "$SEED" =~ ^[0-9]+$ ]] || { echo "ROUNDS and SEED are numbers" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
SCHED_BIN=${DE_SCHEDULER:-$BUILD/server/de-scheduler}
WORKER_BIN=${DE_WORKER:-$BUILD/worker/de-worker}
DECTL_BIN=${DECTL:-$BUILD/cli/dectl}
RUNS_PER_DAG=${CHAOS_RUNS:-10}
GAP_MS=${CHAOS_GAP_MS:-2500}
DRAIN=${CHAOS_DRAIN:-240}
NDAGS=4
NWORKERS=3
for b in "$SCHED_BIN" "$WORKER_BIN" "$DECTL_BIN"; do
  [ -x "$b" ] || { echo "chaos: $b is not built (scripts/build.sh)" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "chaos: sqlite3 not found (scripts/deps.sh)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/de-chaos.XXXXXX")
HOME_DIR=$WORK/home
DATA=$WORK/data
REC=$WORK/records
LOGS=$WORK/logs
mkdir -p "$HOME_DIR" "$DATA" "$REC" "$LOGS" "$WORK/dags"
: >"$WORK/kills.tsv"      # VICTIM GENERATION KILL_NS
: >"$WORK/triggers.txt"   # chaos_id of every trigger the scheduler acknowledged
RANDOM=$SEED
echo "chaos: seed=$SEED rounds=$ROUNDS work=$WORK"

SCHED_PID=""
PORT=0
declare -a WPID WGEN
cleanup() {
  local rc=$?
  for p in "$SCHED_PID" "${WPID[@]:-}"; do
    [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ "${CHAOS_KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
    echo "chaos: work dir kept: $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

now_ns() { local t=$EPOCHREALTIME; echo "${t/./}000"; }
rnd() { echo $(($1 + RANDOM % ($2 - $1 + 1))); }   # uniform in [LO, HI]
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
fail_setup() { echo "chaos: $*" >&2; exit 2; }
db() { sqlite3 -readonly -cmd '.timeout 10000' "$HOME_DIR/de.db" "$@"; }

start_scheduler() {
  rm -f "$HOME_DIR/scheduler.addr"
  # Port 0 the first time; then the same port, so workers dialling it find the restarted one.
  "$SCHED_BIN" --home "$HOME_DIR" --listen "127.0.0.1:$PORT" --http '' --lease 2s \
    --heartbeat 500ms >>"$LOGS/scheduler.log" 2>&1 &
  SCHED_PID=$!
  local deadline=$((SECONDS + 30))
  until [ -s "$HOME_DIR/scheduler.addr" ]; do
    kill -0 "$SCHED_PID" 2>/dev/null || fail_setup "de-scheduler exited: $(tail -5 "$LOGS/scheduler.log")"
    [ $SECONDS -lt $deadline ] || fail_setup "de-scheduler did not write scheduler.addr in 30s"
    sleep 0.05
  done
  local addr
  addr=$(cat "$HOME_DIR/scheduler.addr")
  PORT=${addr##*:}
}

start_worker() {
  local i=$1
  WGEN[i]=$((${WGEN[i]:-0} + 1))
  CHAOS_WORKER="w$i.g${WGEN[i]}" CHAOS_RECORDS=$REC "$WORKER_BIN" --scheduler "127.0.0.1:$PORT" \
    --name "w$i" --slots 4 --data-root "$DATA" >>"$LOGS/w$i.log" 2>&1 &
  WPID[i]=$!
}

# dectl, retried while the scheduler is unreachable (exit 3: it may be restarting).
dectl() {
  local deadline=$((SECONDS + 60)) rc
  while true; do
    rc=0
    "$DECTL_BIN" --server "127.0.0.1:$PORT" "$@" >"$WORK/dectl.out" 2>&1 || rc=$?
    [ "$rc" -ne 3 ] && break
    [ $SECONDS -lt $deadline ] || break
    sleep 0.2
  done
  [ "$rc" -eq 0 ] || fail_setup "dectl $* failed ($rc): $(cat "$WORK/dectl.out")"
}

# Each DAG: 25 recorded shell tasks in layers of 1, 8, 8, 7 and 1; a task needs two neighbours
# of the layer before it (the last one needs all of its layer).
LAYERS=(1 8 8 7 1)
TASKS_PER_RUN=25
write_dags() {
  local d l j name prev_size prev_base base needs
  for ((d = 1; d <= NDAGS; d++)); do
    {
      echo "dag: chaos_$d"
      echo 'description: "chaos suite workload: layers of recorded shell tasks"'
      echo 'schedule: null'
      echo 'params: { chaos_id: "" }'
      echo 'defaults: { retries: 5, retry_delay: 100ms, timeout: 1m }'
      echo 'tasks:'
      base=0
      for ((l = 0; l < ${#LAYERS[@]}; l++)); do
        for ((j = 0; j < LAYERS[l]; j++)); do
          name="t$((base + j))"
          needs=""
          if [ "$l" -gt 0 ]; then
            prev_size=${LAYERS[l - 1]}
            prev_base=$((base - prev_size))
            if [ "$l" -eq $((${#LAYERS[@]} - 1)) ]; then
              for ((k = 0; k < prev_size; k++)); do needs+="${needs:+, }t$((prev_base + k))"; done
            else
              needs="t$((prev_base + j % prev_size))"
              [ "$prev_size" -gt 1 ] && needs+=", t$((prev_base + (j + 1) % prev_size))"
            fi
            needs=" needs: [$needs],"
          fi
          echo "  - { id: $name, type: shell,$needs with: { command: [bash, \"$HERE/exec_task.sh\"] } }"
        done
        base=$((base + LAYERS[l]))
      done
    } >"$WORK/dags/chaos_$d.yaml"
  done
}

WAVES=0
trigger_wave() {
  WAVES=$((WAVES + 1))
  local d k id
  for ((k = 1; k <= RUNS_PER_DAG; k++)); do
    for ((d = 1; d <= NDAGS; d++)); do
      id="v$WAVES.d$d.r$k"
      dectl trigger "chaos_$d" --conf "chaos_id=$id"
      echo "$id" >>"$WORK/triggers.txt"
    done
  done
}

unfinished_runs() { db "SELECT count(*) FROM runs WHERE state NOT IN ('success','failed','cancelled')"; }

KILLS_SCHED=0
KILLS_WORKER=0
chaos_round() {
  sleep_ms "$(rnd 200 "$GAP_MS")"
  local victim=$((RANDOM % 4)) pause
  # Down for up to 1 s, sometimes (one kill in 4) for up to 4 s: longer than a lease.
  pause=$(rnd 0 1000)
  [ $((RANDOM % 4)) -eq 0 ] && pause=$(rnd 1000 4000)
  if [ "$victim" -eq 0 ]; then
    kill -9 "$SCHED_PID"
    echo "scheduler 0 $(now_ns)" >>"$WORK/kills.tsv"
    wait "$SCHED_PID" 2>/dev/null || true
    KILLS_SCHED=$((KILLS_SCHED + 1))
    sleep_ms "$pause"
    start_scheduler
  else
    kill -9 "${WPID[victim]}"
    echo "w$victim w$victim.g${WGEN[victim]} $(now_ns)" >>"$WORK/kills.tsv"
    wait "${WPID[victim]}" 2>/dev/null || true
    KILLS_WORKER=$((KILLS_WORKER + 1))
    sleep_ms "$pause"
    start_worker "$victim"
  fi
}

write_dags
start_scheduler
for ((i = 1; i <= NWORKERS; i++)); do start_worker "$i"; done
dectl dag submit "$WORK"/dags/*.yaml
trigger_wave
T0=$SECONDS
for ((round = 1; round <= ROUNDS; round++)); do
  chaos_round
  if [ $((round % 5)) -eq 0 ] || [ "$round" -eq "$ROUNDS" ]; then
    echo "chaos: round $round/$ROUNDS kills scheduler=$KILLS_SCHED workers=$KILLS_WORKER" \
      "waves=$WAVES unfinished_runs=$(unfinished_runs) t=$((SECONDS - T0))s"
  fi
  if [ "$round" -lt "$ROUNDS" ] && [ "$(unfinished_runs)" -eq 0 ]; then trigger_wave; fi
done

# Everything is up again: every run must end.
deadline=$((SECONDS + DRAIN))
while [ "$(unfinished_runs)" -ne 0 ]; do
  if [ $SECONDS -ge $deadline ]; then
    echo "chaos: runs still unfinished ${DRAIN}s after the last round:" >&2
    db "SELECT run_id, state FROM runs WHERE state NOT IN ('success','failed','cancelled') LIMIT 20" >&2
    break
  fi
  sleep 0.5
done
echo "chaos: drained in $((SECONDS - T0))s since the first round"
# A clean stop, so nothing writes the database or the records while they are checked.
# Nothing runs any more, so a drain (SIGTERM) must end at once; one that does not is a bug.
UNDRAINED=0
for ((i = 1; i <= NWORKERS; i++)); do kill -TERM "${WPID[i]}" 2>/dev/null || true; done
deadline=$((SECONDS + 30))
for ((i = 1; i <= NWORKERS; i++)); do
  while kill -0 "${WPID[i]}" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  if kill -0 "${WPID[i]}" 2>/dev/null; then
    echo "chaos: worker w$i did not drain within 30s of SIGTERM with nothing to run" >&2
    UNDRAINED=$((UNDRAINED + 1))
    kill -9 "${WPID[i]}"
  fi
  wait "${WPID[i]}" 2>/dev/null || true
  WPID[i]=""
done
kill -TERM "$SCHED_PID" 2>/dev/null || true
wait "$SCHED_PID" 2>/dev/null || true
SCHED_PID=""

CHAOS_UNDRAINED=$UNDRAINED CHAOS_SEED=$SEED CHAOS_ROUNDS=$ROUNDS CHAOS_KILLS_SCHED=$KILLS_SCHED CHAOS_KILLS_WORKER=$KILLS_WORKER \
  CHAOS_TASKS_PER_RUN=$TASKS_PER_RUN "$HERE/check.sh" "$WORK"
