#!/usr/bin/env bash
# Voice webhook load benchmark: seeds a fresh database with N volunteers, starts
# `peerline serve` on it, drives complete calls and the /healthz floor, stops the server.
#
#   scripts/voice-load.sh sqlite   [volunteers] [calls] [concurrency]
#   scripts/voice-load.sh postgres [volunteers] [calls] [concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:-sqlite}
volunteers=${2:-10000}
calls=${3:-2000}
concurrency=${4:-8}
port=18090
token=load-test-token
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

case "$backend" in
  sqlite) database_url="sqlite://$work/load.db?mode=rwc" ;;
  postgres)
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS peerline_load" -c "CREATE DATABASE peerline_load"
    database_url="${PG_URL:-postgres://postgres@127.0.0.1:5432/peerline_load}" ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac

cargo build --release --quiet --bin peerline --example voice_load
target=${CARGO_TARGET_DIR:-target}/release
"$target/examples/voice_load" seed --database-url "$database_url" --volunteers "$volunteers"

DATABASE_URL="$database_url" PEERLINE_LISTEN="127.0.0.1:$port" \
PEERLINE_PUBLIC_URL="http://127.0.0.1:$port" TWILIO_AUTH_TOKEN="$token" RUST_LOG=warn \
  "$target/peerline" serve &
server=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done

echo "backend: $backend, volunteers: $volunteers"
"$target/examples/voice_load" run --base-url "http://127.0.0.1:$port" --auth-token "$token" \
  --calls "$calls" --concurrency "$concurrency"
