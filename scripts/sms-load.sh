#!/usr/bin/env bash
# Inbound-SMS load benchmark: seeds a fresh database with N volunteers, starts
# `peerline serve` on it with its outbox sending to the benchmark's stand-in for Twilio's
# REST API, drives two texts from each texter, stops the server.
#
#   scripts/sms-load.sh sqlite   [volunteers] [texters] [concurrency] [--idle] [--rest-latency-ms N]
#   scripts/sms-load.sh postgres [volunteers] [texters] [concurrency] [--idle] [--rest-latency-ms N]
#
# --idle: the second texts go one at a time, each once the outbox is quiet.
# --rest-latency-ms N: the stand-in answers each REST request after N ms, as Twilio's API
#   takes a few hundred to answer; without it, at once.
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:-sqlite}
volunteers=${2:-1000}
texters=${3:-500}
concurrency=${4:-8}
port=18092
rest_port=18093
token=load-test-token
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

case "$backend" in
  sqlite) database_url="sqlite://$work/load.db?mode=rwc" ;;
  postgres)
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS peerline_sms_load" -c "CREATE DATABASE peerline_sms_load"
    database_url="${PG_URL:-postgres://postgres@127.0.0.1:5432/peerline_sms_load}" ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac

cargo build --release --quiet --bin peerline --example voice_load --example sms_load
target=${CARGO_TARGET_DIR:-target}/release
"$target/examples/voice_load" seed --database-url "$database_url" --volunteers "$volunteers"

DATABASE_URL="$database_url" PEERLINE_LISTEN="127.0.0.1:$port" \
PEERLINE_PUBLIC_URL="http://127.0.0.1:$port" TWILIO_AUTH_TOKEN="$token" \
TWILIO_ACCOUNT_SID=AC00000000000000000000000000000001 TWILIO_API_BASE="http://127.0.0.1:$rest_port" \
RUST_LOG=warn "$target/peerline" serve &
server=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done

echo "backend: $backend, volunteers: $volunteers"
"$target/examples/sms_load" --base-url "http://127.0.0.1:$port" --auth-token "$token" \
  --texters "$texters" --concurrency "$concurrency" --rest-port "$rest_port" "${@:5}"
