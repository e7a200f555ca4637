#!/usr/bin/env bash
# Property-based API testing: runs schemathesis (from PyPI, pinned) against
# openapi/openapi.json on a running `peerline serve --demo` with an admin token.
# Fails on any 5xx or any response that does not match the documented schema.
#
#   scripts/schemathesis.sh [max-examples-per-operation] [seed]
set -euo pipefail
cd "$(dirname "$0")/.."

examples=${1:-15}
seed=${2:-20261122}
version=4.32.5
venv="${PEERLINE_SCHEMATHESIS_VENV:-$HOME/.cache/peerline-schemathesis-$version}"
port=18111
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

if [ ! -x "$venv/bin/schemathesis" ]; then
    echo "installing schemathesis $version into $venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install -q "schemathesis==$version"
fi

cargo build --locked --quiet --bin peerline
binary="${CARGO_TARGET_DIR:-target}/debug/peerline"

export DATABASE_URL="sqlite://$work/schemathesis.db?mode=rwc"
export PEERLINE_SECRET_KEY=schemathesis-secret-key-0123456789abcdef
export PEERLINE_LISTEN="127.0.0.1:$port"
export PEERLINE_PUBLIC_URL="http://127.0.0.1:$port"
export PEERLINE_API_RATE_LIMIT=0
export PEERLINE_SPOOL_DIR="$work/spool"
export RUST_LOG=error
"$binary" migrate
token=$("$binary" token create --role admin --name Schemathesis)
"$binary" serve --demo >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
done

"$venv/bin/schemathesis" run openapi/openapi.json \
    --url "http://127.0.0.1:$port" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "$examples" --seed "$seed"
