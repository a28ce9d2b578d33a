#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the demo need. Idempotent: does nothing
# when everything is present; runs `apt-get update` once otherwise.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build ccache pkg-config git
  libgrpc++-dev libgrpc-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libcli11-dev
  libabsl-dev libsqlite3-dev sqlite3 libpq-dev postgresql libyaml-cpp-dev libspdlog-dev libfmt-dev prometheus-cpp-dev
  libsnappy-dev libzstd-dev zlib1g-dev liblz4-dev libisal-dev libcurl4-openssl-dev nlohmann-json3-dev libcpp-httplib-dev libre2-dev
  prometheus
  openssl libssl-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  curl tzdata time jq yq zstd gzip
  clang libclang-rt-14-dev
  chromium fonts-dejavu-core
)
# Node.js runs DuckDB (npm @duckdb/node-api), the independent Parquet reader of the interop tests.
command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
command -v npm >/dev/null 2>&1 || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps.sh: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
