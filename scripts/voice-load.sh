#!/usr/bin/env bash
# Voice webhook load benchmark: seeds a fresh database with N volunteers, starts one or
# more `peerline serve` processes on it, drives complete calls (spread over the servers)
# and the /healthz floor, stops the servers.
#
#   scripts/voice-load.sh sqlite   [volunteers] [calls] [concurrency] [servers]
#   scripts/voice-load.sh postgres [volunteers] [calls] [concurrency] [servers]
#
# HISTORY_DAYS=365 first fills the database with a year of answered calls (2,740 a day,
# a million in all), as a helpline's database holds after a year.
# ROSTER_CHANGES=1 changes the roster (one shift rewritten) every second during the run,
# as a coordinator editing the rota at a busy hour.
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:-sqlite}
volunteers=${2:-10000}
calls=${3:-2000}
concurrency=${4:-8}
servers=${5:-1}
port=18090
token=load-test-token
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

case "$backend" in
  sqlite) database_url="sqlite://$work/load.db?mode=rwc" ;;
  postgres)
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS peerline_load" -c "CREATE DATABASE peerline_load"
    database_url="${PG_URL:-postgres://postgres@127.0.0.1:5432/peerline_load}" ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac

cargo build --release --quiet --bin peerline --example voice_load
target=${CARGO_TARGET_DIR:-target}/release
"$target/examples/voice_load" seed --database-url "$database_url" --volunteers "$volunteers" \
  --history-days "${HISTORY_DAYS:-0}"

bases=()
for i in $(seq 0 $((servers - 1))); do
  p=$((port + i))
  DATABASE_URL="$database_url" PEERLINE_LISTEN="127.0.0.1:$p" \
  PEERLINE_PUBLIC_URL="http://127.0.0.1:$p" TWILIO_AUTH_TOKEN="$token" RUST_LOG=warn \
  PEERLINE_SPOOL_DIR="$work/spool-$i" \
    "$target/peerline" serve &
  pids+=($!)
  bases+=("http://127.0.0.1:$p")
  for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break
    sleep 0.2
  done
done

if [ "${ROSTER_CHANGES:-0}" = 1 ]; then
  change="UPDATE shifts SET end_time = end_time WHERE id = 1"
  while sleep 1; do
    case "$backend" in
      sqlite) sqlite3 -cmd ".timeout 5000" "$work/load.db" "$change" ;;
      postgres) psql -q "$database_url" -c "$change" ;;
    esac
  done &
  pids+=($!)
fi

echo "backend: $backend, volunteers: $volunteers, servers: $servers, history: ${HISTORY_DAYS:-0} days, roster changes: ${ROSTER_CHANGES:-0}"
"$target/examples/voice_load" run --base-url "$(IFS=,; echo "${bases[*]}")" --auth-token "$token" \
  --calls "$calls" --concurrency "$concurrency"
