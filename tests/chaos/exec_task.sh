#!/usr/bin/env bash
# One execution of a chaos task (run by de-worker as `bash exec_task.sh`). It records itself in a
# file of its own under $CHAOS_RECORDS, every line appended with O_APPEND (`>>`):
#   start RUN_ID TASK TRY START_NS PID WORKER_GENERATION
#   tick NS          every 100 ms while it runs (the last one bounds when it was seen alive)
#   end NS RC        when it exits on its own
# An execution killed together with its worker (kill -9, the guard's SIGKILL of the group) or by
# its worker (fenced, cancelled) has no end line. Timestamps are CLOCK_REALTIME in ns
# ($EPOCHREALTIME: no fork), one clock for every process on the machine.
# About one try in 20 fails on purpose (exit 1) so retries are exercised too.
set -u
t=$EPOCHREALTIME
f="$CHAOS_RECORDS/${CHAOS_WORKER}.$$.${t/./}"
printf 'start %s %s %s %s %s %s\n' "$DE_RUN_ID" "$DE_TASK" "$DE_TRY_NUMBER" "${t/./}000" "$$" \
  "$CHAOS_WORKER" >>"$f"
# Most tries take 0.1-0.4 s; one in 10 takes 2-6 s, longer than a lease, so that kills and
# restarts catch tasks in the middle.
steps=$((RANDOM % 4 + 1))
((RANDOM % 10 == 0)) && steps=$((20 + RANDOM % 41))
for ((i = 0; i < steps; i++)); do
  sleep 0.1
  t=$EPOCHREALTIME
  printf 'tick %s\n' "${t/./}000" >>"$f"
done
rc=0
((RANDOM % 20 == 0)) && rc=1
t=$EPOCHREALTIME
printf 'end %s %s\n' "${t/./}000" "$rc" >>"$f"
exit "$rc"
