#!/usr/bin/env bash
# Checked thread safety: clang's -Wthread-safety as an error over the sources that use absl's
# thread annotations (server/, worker/, common/), with the flags CMake recorded for each file in
# BUILD_DIR/compile_commands.json (scripts/build.sh makes it). Only -fsyntax-only: nothing is
# built, so this runs beside the gcc build and takes a few minutes on 2 cores.
# Usage: tests/tsa/check.sh [BUILD_DIR]   (default $BUILD_DIR or build/); exits 0 when clean,
#        1 with clang's diagnostics on a violation, 2 when clang or the build dir is missing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-${BUILD_DIR:-$ROOT/build}}" 2>/dev/null && pwd) || { echo "tsa: no build dir" >&2; exit 2; }
DB=$BUILD/compile_commands.json
[ -f "$DB" ] || { echo "tsa: $DB not found (scripts/build.sh)" >&2; exit 2; }
CLANG=$(command -v clang++ || command -v clang++-14 || true)
[ -n "$CLANG" ] || { echo "tsa: clang++ not found (scripts/deps.sh installs clang)" >&2; exit 2; }
command -v jq >/dev/null || { echo "tsa: jq not found (scripts/deps.sh)" >&2; exit 2; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

jq -r --arg r "$ROOT/" '.[] | select((.file | startswith($r + "server/")) or
    (.file | startswith($r + "worker/")) or (.file | startswith($r + "common/"))) | .command' \
  "$DB" >"$OUT/commands"
n=$(wc -l <"$OUT/commands")
[ "$n" -gt 0 ] || { echo "tsa: no server/worker/common sources in $DB" >&2; exit 2; }

# One compile command -> the same flags under clang, syntax only, thread-safety warnings as errors
# and no others (gcc's warning set is checked by the real build).
check_one() {
  local i=$1 line=$2 args=() skip=0 a src=""
  read -ra words <<<"$line"
  for a in "${words[@]:1}"; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$a" in
      -o) skip=1 ;;
      -c) ;;
      -W* | -w | -fdiagnostics-color*) ;;
      *) args+=("$a") ;;
    esac
  done
  if ! "$CLANG" "${args[@]}" -fsyntax-only -Wno-everything -Wthread-safety -Wthread-safety-beta \
      -Werror=thread-safety -Werror=thread-safety-beta >"$OUT/$i.log" 2>&1; then
    echo "tsa: FAIL: ${args[-1]}" >>"$OUT/$i.log"
    return 1
  fi
}

jobs=${JOBS:-$(nproc)}
i=0
failed=0
while IFS= read -r line; do
  i=$((i + 1))
  check_one "$i" "$line" &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || failed=1; done
done <"$OUT/commands"
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || failed=1; done
wait || failed=1
if [ "$failed" -ne 0 ]; then
  cat "$OUT"/*.log >&2
  echo "tsa: thread-safety violations (clang -Wthread-safety) in the files above" >&2
  exit 1
fi
echo "tsa: ok ($n files of server/, worker/ and common/ pass clang -Wthread-safety -Werror)"
