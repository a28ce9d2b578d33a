#!/usr/bin/env bash
# The newcomer's tour of de, end to end, on this machine:
#   1. builds everything (scripts/build.sh, which installs the Debian packages via scripts/deps.sh);
#   2. makes a throwaway folder with a DE_HOME (SQLite, task logs) and a data root (the "lake");
#   3. generates gzipped flights CSVs for January 2024 (awk; about DEMO_ROWS rows a day);
#   4. starts one de-scheduler (loopback, a free port) and two de-workers;
#   5. submits the example DAGs in dags/ and runs them: hello_shell (a diamond of shell tasks with
#      a retry), flights_daily (CSV -> Parquet for a few days), flights_monthly (waits for the
#      whole month) when the scheduler supports waits;
#   6. prints the runs, their task tables, a task log, the Parquet written with its row counts;
#   7. stops the processes it started (also on failure or Ctrl-C); keeps the files to look at.
# Exit 0 when every run it started succeeded; non-zero, with the tail of the logs, otherwise.
#
# Environment: BUILD_DIR (default build), JOBS (build parallelism), DEMO_ROWS (rows per day,
# default 50000), DEMO_DAYS (daily runs when the monthly roll-up is not run, default 3),
# DEMO_TIMEOUT (seconds the runs may take, default 600), DEMO_KEEP=0 (delete the files at the
# end), DEMO_BUILD=0 (skip the build; use the binaries already in BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BUILD_DIR=${BUILD_DIR:-build}
DEMO_ROWS=${DEMO_ROWS:-50000}
DEMO_DAYS=${DEMO_DAYS:-3}
DEMO_TIMEOUT=${DEMO_TIMEOUT:-600}
DEMO_KEEP=${DEMO_KEEP:-1}
DEMO_BUILD=${DEMO_BUILD:-1}

# --- output helpers ---------------------------------------------------------------------------
if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' Y=$'\e[33m' R=$'\e[31m' N=$'\e[0m'; else B= G= Y= R= N=; fi
STEP=0
section() { STEP=$((STEP + 1)); printf '\n%s== %d. %s%s\n' "$B" "$STEP" "$*" "$N"; }
info() { printf '%s\n' "$*"; }
skip() { printf '%sSKIPPED:%s %s\n' "$Y" "$N" "$*"; SKIPPED+=("$*"); }
# Prints a command as a user would type it; `show` also runs it.
say_cmd() { printf '%s$ %s%s\n' "$B" "$*" "$N"; }
show() { say_cmd "$@"; "$@"; }
SKIPPED=()

# --- processes and cleanup --------------------------------------------------------------------
DEMO_DIR=""
PIDS=()          # every background process this script started, in start order
LOGS=()          # their log files
LOGS_SHOWN=0

print_log_tails() {
  [ "$LOGS_SHOWN" -eq 0 ] || return 0
  LOGS_SHOWN=1
  local f
  for f in "${LOGS[@]}"; do
    [ -s "$f" ] || continue
    printf '\n%s--- last lines of %s ---%s\n' "$B" "$f" "$N" >&2
    tail -n 15 "$f" | cut -c 1-300 >&2
  done
}

fail() {
  printf '\n%sFAILED:%s %s\n' "$R" "$N" "$*" >&2
  print_log_tails
  exit 1
}

# Stops one process: SIGTERM (a worker drains, the scheduler shuts down), then waits for it to
# exit; SIGKILL if it has not after 15 s.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    printf 'process %s did not stop within 15 s; killing it\n' "$pid" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$rc" -ne 0 ]; then print_log_tails; fi
  # Workers first (they drain), the scheduler last.
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
  if [ -n "$DEMO_DIR" ] && [ "$DEMO_KEEP" = 0 ] && [ "$rc" -eq 0 ]; then rm -rf "$DEMO_DIR"; fi
  if [ "$rc" -ne 0 ] && [ -n "$DEMO_DIR" ]; then
    printf '\n%sdemo failed (exit %d); everything it wrote is in %s%s\n' "$R" "$rc" "$DEMO_DIR" "$N" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Polls `cond` (a command) every 0.1 s until it succeeds or `secs` pass. Returns 1 on timeout.
wait_until() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  "$@"
}

# ==============================================================================================
section "Build ($BUILD_DIR)"
DEMO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/de-demo.XXXXXX")
DE_HOME=$DEMO_DIR/home
DATA=$DEMO_DIR/data
mkdir -p "$DE_HOME" "$DATA/raw"
if [ "$DEMO_BUILD" = 0 ]; then
  info "DEMO_BUILD=0: using the binaries in $BUILD_DIR as they are"
else
  LOGS+=("$DEMO_DIR/build.log")
  info "scripts/build.sh (installs missing Debian packages with apt-get first; the first build takes"
  info "several minutes on 2 cores). Log: $DEMO_DIR/build.log"
  if ! BUILD_DIR=$BUILD_DIR scripts/build.sh >"$DEMO_DIR/build.log" 2>&1; then
    fail "the build failed (see the log above)"
  fi
  LOGS=()
fi
case "$BUILD_DIR" in /*) BIN=$BUILD_DIR ;; *) BIN=$REPO/$BUILD_DIR ;; esac
SCHEDULER=$BIN/server/de-scheduler
WORKER=$BIN/worker/de-worker
DECTL_BIN=$BIN/cli/dectl
[ -x "$SCHEDULER" ] || fail "$SCHEDULER was not built"
[ -x "$WORKER" ] || fail "$WORKER was not built"
info "built: $SCHEDULER"
info "       $WORKER"
HAVE_DECTL=0
if [ -x "$DECTL_BIN" ] && "$DECTL_BIN" --help >/dev/null 2>&1; then
  HAVE_DECTL=1
  info "       $DECTL_BIN"
fi
# So that `show dectl ...` prints what a user types (with the build folder on PATH).
dectl() { "$DECTL_BIN" "$@"; }
de-worker() { "$WORKER" "$@"; }
de-scheduler() { "$SCHEDULER" "$@"; }

# ==============================================================================================
section "Demo data: flights CSVs for January 2024"
info "DE_HOME    $DE_HOME   (SQLite de.db, task logs, scheduler.addr)"
info "data root  $DATA   (what the workers' relative paths mean)"

# One day of flights (scripts/gen-flights.sh): date,carrier,flight,origin,destination,dep_time,distance,delay.
# Busy airports fly more; distance is the great-circle distance of the pair (miles); delay is
# minutes, skewed late, empty for 3% of rows and "NA" for 1%; 1 row in 2,000 has a bad distance
# and 1 in 1,000 a distance of 0; 1 in 200 has its origin in lower case with spaces around it;
# 1 in 500 is delivered twice. (The clean task repairs or removes what it can.)
gen_flights() {  # DAY ROWS SEED
  "$REPO/scripts/gen-flights.sh" "$1" "$2" "$3" | gzip -6 >"$DATA/raw/flights-$1.csv.gz"
}
# gen_days FIRST LAST: the files for 2024-01-FIRST .. 2024-01-LAST that do not exist yet.
gen_days() {
  local d day
  for ((d = $1; d <= $2; d++)); do
    day=$(printf '2024-01-%02d' "$d")
    [ -f "$DATA/raw/flights-$day.csv.gz" ] || gen_flights "$day" "$DEMO_ROWS" "$d"
  done
}
gen_days 1 31
info "generated 31 files (one per day of January 2024), $DEMO_ROWS rows each, in $DATA/raw:"
ls -l "$DATA/raw" | sed -n '2,3p'
info "  ..."
info "first rows of flights-2024-01-01.csv.gz:"
gzip -dc "$DATA/raw/flights-2024-01-01.csv.gz" | awk 'NR <= 4 { print "  " $0 }'

# ==============================================================================================
section "Try one built-in task by hand: de-worker task csv_to_parquet"
HAVE_CSV_TO_PARQUET=0
set +e
show de-worker task csv_to_parquet input=raw/flights-2024-01-01.csv.gz output=lake/try/flights_by_origin \
  'partition_by=[origin]' compression=zstd null_values=NA --data-root "$DATA" >"$DEMO_DIR/task.out" 2>&1
rc=$?
set -e
cat "$DEMO_DIR/task.out"
if [ "$rc" -eq 0 ]; then
  HAVE_CSV_TO_PARQUET=1
elif grep -q "unknown built-in task type\|unknown or incomplete option 'task'" "$DEMO_DIR/task.out"; then
  skip "csv_to_parquet is not in this build yet (worker/tasks/csv_to_parquet.cc is being written)"
else
  fail "de-worker task csv_to_parquet failed (exit $rc)"
fi
if [ "$HAVE_CSV_TO_PARQUET" = 1 ]; then
  info "partitions written (hive style, one folder per origin):"
  (cd "$DATA/lake/try/flights_by_origin" && ls -d origin=* | awk 'NR <= 5 { print "  " $0 }' && info "  ...")
fi

# ==============================================================================================
section "Start de-scheduler and two de-workers"
# Background processes run the binaries directly (not the wrapper functions) so that $! is the
# daemon's own pid, which the EXIT trap signals.
"$SCHEDULER" --home "$DE_HOME" --listen 127.0.0.1:0 --http 127.0.0.1:0 >"$DE_HOME/scheduler.log" 2>&1 &
PIDS+=($!)
LOGS+=("$DE_HOME/scheduler.log")
info "de-scheduler --home $DE_HOME --listen 127.0.0.1:0   (pid ${PIDS[0]}, log $DE_HOME/scheduler.log)"
scheduler_up() {
  kill -0 "${PIDS[0]}" 2>/dev/null || fail "de-scheduler exited during startup"
  [ -s "$DE_HOME/scheduler.addr" ]
}
wait_until 30 scheduler_up || fail "de-scheduler did not write $DE_HOME/scheduler.addr within 30 s"
ADDR=$(head -n 1 "$DE_HOME/scheduler.addr")
export DE_SERVER=$ADDR
info "scheduler listening on $ADDR (from $DE_HOME/scheduler.addr); DE_SERVER=$ADDR"
for n in 1 2; do
  "$WORKER" --scheduler "$ADDR" --name "demo-worker-$n" --slots 2 --data-root "$DATA" \
    >"$DE_HOME/worker-$n.log" 2>&1 &
  PIDS+=($!)
  LOGS+=("$DE_HOME/worker-$n.log")
  info "de-worker --scheduler $ADDR --name demo-worker-$n --slots 2 --data-root $DATA   (pid $!)"
done
workers_connected() {
  local p
  for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || fail "a demo process exited (pid $p)"; done
  if [ "$HAVE_DECTL" = 1 ]; then
    [ "$(dectl workers --output json 2>/dev/null | grep -c '"state": "connected"')" -ge 2 ]
  else
    grep -q 'connected to scheduler' "$DE_HOME/worker-1.log" &&
      grep -q 'connected to scheduler' "$DE_HOME/worker-2.log"
  fi
}
wait_until 30 workers_connected || fail "the workers did not connect within 30 s"
if [ "$HAVE_DECTL" = 1 ]; then show dectl workers; else info "both workers connected"; fi

if [ "$HAVE_DECTL" = 0 ]; then
  skip "dectl is not in this build yet (cli/ is being written): no DAGs submitted, no runs"
  section "Summary"
  info "The scheduler and the workers started and connected; without dectl there is nothing to submit."
  info "Skipped: ${SKIPPED[*]}"
  exit 0
fi

# ==============================================================================================
section "Validate and submit the example DAGs (dags/)"
show dectl dag validate dags/*.yaml
# flights_daily is submitted later, once flights_monthly's run is shown waiting for it.
if [ "$HAVE_CSV_TO_PARQUET" = 1 ]; then
  show dectl dag submit dags/hello_shell.yaml dags/flights_monthly.yaml
else
  show dectl dag submit dags/hello_shell.yaml
  skip "flights_daily and flights_monthly not submitted (they need csv_to_parquet)"
fi
show dectl dag list

# run_state RUN: prints the run's state (from `dectl runs show RUN --output json`).
run_state() {
  dectl runs show "$1" --output json | grep -m 1 '"state":' | sed 's/.*"state": *"\([a-z_]*\)".*/\1/'
}
is_terminal() { case "$1" in success | failed | cancelled) return 0 ;; *) return 1 ;; esac; }
# wait_run RUN: waits until RUN ends (at most DEMO_TIMEOUT s); sets STATE to its final state.
STATE=""
wait_run() {
  local run=$1 i
  for ((i = 0; i < DEMO_TIMEOUT * 5; i++)); do
    STATE=$(run_state "$run") || fail "cannot read run $run"
    is_terminal "$STATE" && return 0
    sleep 0.2
  done
  fail "run $run did not end within ${DEMO_TIMEOUT}s (state $STATE)"
}
# dag_runs DAG: one "RUN STATE" line per run of DAG (from the `dectl runs list` table).
dag_runs() {
  dectl runs list "$1" --limit 1000 |
    awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "STATE") c = i; next } c { print $1, $c }'
}
# count_states: "3 success, 1 running" from "RUN STATE" lines on stdin.
count_states() {
  awk 'NF { print $2 }' | sort | uniq -c | awk '{ printf "%s%d %s", (NR > 1 ? ", " : ""), $1, $2 }'
}
# next_run_known DAG: true if the scheduler reports a next scheduled run for DAG (`dectl dag list`).
has_runs() { [ -n "$(dag_runs "$1")" ]; }

# The scheduler creates flights_monthly's January run on its own (catchup): the interval ended
# long ago. (A scheduler without cron support would never create it; then the demo triggers
# flights_daily by hand instead.)
SCHEDULED=0
if [ "$HAVE_CSV_TO_PARQUET" = 1 ] && wait_until 10 has_runs flights_monthly; then SCHEDULED=1; fi

RUNS=()          # every run the demo waited for
FAILED_RUNS=()
MONTHLY_RUN=""
if [ "$SCHEDULED" = 1 ]; then
  info ""
  info "flights_monthly is @monthly from 2024-01-01: the scheduler creates its January run at once"
  info "(that interval ended long ago), and the run waits for flights_daily, not yet submitted."
  monthly_run_exists() {
    MONTHLY_RUN=$(dag_runs flights_monthly | awk 'NR == 1 { print $1 }')
    [ -n "$MONTHLY_RUN" ]
  }
  wait_until 30 monthly_run_exists || fail "the scheduler created no run of flights_monthly within 30 s"
  show dectl runs show "$MONTHLY_RUN"
fi

# ==============================================================================================
section "Run hello_shell and follow it live (dectl trigger --wait)"
say_cmd dectl trigger hello_shell --conf who=newcomer --wait
set +e
dectl trigger hello_shell --conf who=newcomer --wait | tee "$DEMO_DIR/hello.out"
rc=${PIPESTATUS[0]}
set -e
HELLO_RUN=$(head -n 1 "$DEMO_DIR/hello.out")
[ -n "$HELLO_RUN" ] || fail "dectl trigger hello_shell printed no run id"
RUNS+=("$HELLO_RUN")
[ "$rc" -eq 0 ] || FAILED_RUNS+=("$HELLO_RUN")
show dectl runs show "$HELLO_RUN"
info ""
info "The log of flaky's first (failed) try, then of its last try:"
show dectl logs "$HELLO_RUN" flaky --attempt 1 || true
show dectl logs "$HELLO_RUN" flaky || true

# ==============================================================================================
FIRST_DAILY=""
if [ "$SCHEDULED" = 1 ]; then
  section "flights_daily catches up January (31 runs); then flights_monthly runs"
  info "flights_daily is @daily from 2024-01-01 to 2024-01-31 with catchup: true, so submitting it"
  info "makes the scheduler create one run per day (max_active_runs: 4 at a time). Each converts that"
  info "day's CSV to lake/flights/dt=DAY/. The monthly run starts when all 31 have succeeded."
  show dectl dag submit dags/flights_daily.yaml
  info "Polling dectl runs list every 0.5 s (at most ${DEMO_TIMEOUT} s):"
  last=""
  for ((i = 0; ; i++)); do
    daily=$(dag_runs flights_daily)
    monthly=$(dag_runs flights_monthly)
    line="flights_daily: $(count_states <<<"$daily") | flights_monthly: $(count_states <<<"$monthly")"
    if [ "$line" != "$last" ]; then
      info "  $(date -u +%H:%M:%S) $line"
      last=$line
    fi
    n_daily=$(grep -c . <<<"$daily" || true)
    open=$(awk 'NF && $2 != "success" && $2 != "failed" && $2 != "cancelled"' <<<"$daily"$'\n'"$monthly" | grep -c . || true)
    if [ "$n_daily" -ge 31 ] && [ -n "$monthly" ] && [ "$open" -eq 0 ]; then break; fi
    [ "$i" -lt $((DEMO_TIMEOUT * 2)) ] || fail "the flights runs did not end within ${DEMO_TIMEOUT} s"
    sleep 0.5
  done
  while read -r run state; do
    [ -n "$run" ] || continue
    RUNS+=("$run")
    [ "$state" = success ] || FAILED_RUNS+=("$run")
  done <<<"$daily"$'\n'"$monthly"
  FIRST_DAILY=$(awk 'END { print $1 }' <<<"$daily")   # newest first: the last one is January 1
elif [ "$HAVE_CSV_TO_PARQUET" = 1 ]; then
  section "Run flights_daily for $DEMO_DAYS days (CSV -> Parquet), on two workers"
  skip "scheduled runs (catchup) and flights_monthly's wait_for: this scheduler does not schedule yet"
  show dectl dag submit dags/flights_daily.yaml
  DAILY_RUNS=()
  for ((d = 1; d <= DEMO_DAYS; d++)); do
    day=$(printf '2024-01-%02d' "$d")
    say_cmd dectl trigger flights_daily --date "$day"
    run=$(dectl trigger flights_daily --date "$day")
    info "$run"
    DAILY_RUNS+=("$run")
  done
  info "waiting for the runs to end (polling dectl runs show RUN --output json) ..."
  for run in "${DAILY_RUNS[@]}"; do
    wait_run "$run"
    printf '  %-45s %s\n' "$run" "$STATE"
    RUNS+=("$run")
    [ "$STATE" = success ] || FAILED_RUNS+=("$run")
  done
  FIRST_DAILY=${DAILY_RUNS[0]}
fi
if [ -n "$FIRST_DAILY" ]; then
  show dectl runs show "$FIRST_DAILY"
  info ""
  info "The logs of its tasks:"
  for t in convert clean daily_stats; do show dectl logs "$FIRST_DAILY" "$t" || true; done
fi
if [ -n "$MONTHLY_RUN" ]; then
  info ""
  show dectl runs show "$MONTHLY_RUN"
  show dectl logs "$MONTHLY_RUN" monthly_delays || true
fi

# ==============================================================================================
if [ "$SCHEDULED" = 1 ]; then
  section "Reprocess three days with a backfill (dectl backfill --rerun all)"
  info "A backfill makes the live scheduler create, or with --rerun redo, one run per interval."
  info "Each convert replaces its dt= folder atomically, so the row counts stay the same."
  say_cmd dectl backfill flights_daily --from 2024-01-01 --to 2024-01-03 --rerun all
  dectl backfill flights_daily --from 2024-01-01 --to 2024-01-03 --rerun all | tee "$DEMO_DIR/backfill.out"
  BACKFILL=$(awk '/^backfill / { sub(/:$/, "", $2); print $2; exit }' "$DEMO_DIR/backfill.out")
  [ -n "$BACKFILL" ] || fail "dectl backfill printed no backfill id"
  backfill_state() {
    dectl backfill status "$BACKFILL" --output json | grep -m 1 '"state":' | sed 's/.*"state": *"\([a-z_]*\)".*/\1/'
  }
  for ((i = 0; ; i++)); do
    STATE=$(backfill_state) || fail "cannot read backfill $BACKFILL"
    is_terminal "$STATE" && break
    [ "$i" -lt $((DEMO_TIMEOUT * 5)) ] || fail "backfill $BACKFILL did not end within ${DEMO_TIMEOUT} s"
    sleep 0.2
  done
  show dectl backfill status "$BACKFILL"
  [ "$STATE" = success ] || FAILED_RUNS+=("backfill:$BACKFILL")
fi

# ==============================================================================================
section "All runs (newest first)"
show dectl runs list --limit 8
total=$(dectl runs list --limit 1000 | awk 'NR > 1' | grep -c . || true)
[ "$total" -le 8 ] || info "... $((total - 8)) more: dectl runs list --limit 100"

if [ "$HAVE_CSV_TO_PARQUET" = 1 ]; then
  section "What the pipeline wrote (lake/ and marts/ under $DATA)"
  # Row counts come from each folder's _SUCCESS manifest (JSON written by every built-in task).
  json_num() { grep -o "\"$1\":[0-9]*" "$2" | sed -n '1s/.*://p'; }
  find "$DATA/lake" "$DATA/marts" -name _SUCCESS 2>/dev/null | sort | while read -r m; do
    dir=$(dirname "$m")
    printf '%s %s %s %s %s %s\n' "${dir#"$DATA"/}" "$(find "$dir" -name '*.parquet' -o -name 'part-*.csv' | wc -l)" \
      "$(find "$dir" \( -name '*.parquet' -o -name 'part-*.csv' \) -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')" \
      "$(json_num rows_in "$m")" "$(json_num rows "$m")" "$(json_num rows_rejected "$m")"
  done >"$DEMO_DIR/lake.txt"
  awk '
    { row[NR] = $0; f += $2; b += $3; i += $4; o += $5; r += $6 }
    function line(a, b, c, d, e, g) { printf "%-36s %6s %11s %9s %9s %9s\n", a, b, c, d, e, g }
    END {
      line("FOLDER (with _SUCCESS)", "FILES", "BYTES", "ROWS IN", "ROWS", "REJECTED")
      for (k = 1; k <= NR; k++) {
        if (NR > 8 && k > 5 && k < NR - 1) { if (k == 6) line("...", "", "", "", "", ""); continue }
        split(row[k], x, " "); line(x[1], x[2], x[3], x[4], x[5], x[6])
      }
      line("total: " NR " folders", f, b, i, o, r)
    }' "$DEMO_DIR/lake.txt"
  info ""
  info "Inside lake/flights/dt=2024-01-01 (Parquet, the _SUCCESS manifest, the rejected rows):"
  (cd "$DATA" && find lake/flights/dt=2024-01-01 -type f -printf '  %-56p %9s bytes\n' | sort)
  DELAYS=$(ls "$DATA"/marts/monthly_delays/dt=2024-01-01/part-*.csv 2>/dev/null | head -n 1)
  if [ -n "$DELAYS" ]; then
    section "The numbers an analyst wanted: January 2024 delays per origin airport"
    info "flights_monthly's monthly_delays task read lake/flights_clean for exactly the days of its"
    info "data interval and wrote ${DELAYS#"$DATA"/} (busiest airports first):"
    awk -F, 'NR <= 11 { printf "  %-8s %9s %10s %10s %10s\n", $1, $2, (NR > 1 ? sprintf("%.2f", $3) : $3), $4, $5 }' "$DELAYS"
    info ""
    info "The Parquet marts open in any Parquet reader, e.g. DuckDB:"
    info "  duckdb -c \"SELECT * FROM read_parquet('$DATA/marts/monthly/dt=2024-01-01/*.parquet') ORDER BY flights DESC LIMIT 5\""
    info "  duckdb -c \"SELECT dt, sum(flights) FROM read_parquet('$DATA/marts/daily/*/*.parquet', hive_partitioning=true) GROUP BY dt ORDER BY dt\""
  fi
fi

# ==============================================================================================
section "Summary"
info "runs: ${#RUNS[@]} finished, ${#FAILED_RUNS[@]} not successful"
for s in "${SKIPPED[@]}"; do info "skipped: $s"; done
info ""
info "Where things are:"
info "  DE_HOME        $DE_HOME   (de.db, logs/RUN/TASK/TRY.log, scheduler.addr)"
info "  lake           $DATA/lake"
info "  process logs   $DE_HOME/scheduler.log, worker-1.log, worker-2.log"
HTTP_ADDR=$(head -n 1 "$DE_HOME/http.addr" 2>/dev/null || true)
if [ -n "$HTTP_ADDR" ]; then
  info "  web page       http://$HTTP_ADDR/   (until the demo stops the scheduler)"
  info "  metrics        http://$HTTP_ADDR/metrics, for example:"
  curl -fsS "http://$HTTP_ADDR/metrics" 2>/dev/null | awk '/^de_/ && n++ < 8 { print "                 " $0 }' || true
else
  info "  web page       not served (the scheduler wrote no $DE_HOME/http.addr)"
fi
info ""
info "To look around later (the history stays in de.db):"
info "  $SCHEDULER --home $DE_HOME --listen 127.0.0.1:7070 --http 127.0.0.1:9464 &"
info "  open http://127.0.0.1:9464/    # the runs, their tasks and logs"
info "  $DECTL_BIN runs list        # --server defaults to 127.0.0.1:7070"
if [ "${#FAILED_RUNS[@]}" -gt 0 ]; then
  # What went wrong: each failed run's task table and the end of its failed tasks' logs.
  for run in "${FAILED_RUNS[@]}"; do
    printf '\n%sRun %s did not succeed:%s\n' "$R" "$run" "$N"
    dectl runs show "$run" || true
    for t in $(dectl runs show "$run" | awk '/^TASK / { t = 1; next } t && $3 == "failed" { print $1 }'); do
      say_cmd dectl logs "$run" "$t" "(last 20 lines)"
      dectl logs "$run" "$t" | tail -n 20 || true
    done
  done
  fail "these runs did not succeed: ${FAILED_RUNS[*]}"
fi
info ""
info "${G}demo OK${N} (stopping the scheduler and the workers; the files stay in $DEMO_DIR)"
