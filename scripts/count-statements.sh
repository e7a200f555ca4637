#!/usr/bin/env bash
# Counts the SQL statements and commits of a complete inbound call (inbound webhook,
# whisper, key press, dial action, status callback) on PostgreSQL, from the server's own
# statement log: seeds a database with N volunteers, turns `log_statement = 'all'` on for
# that database alone, starts `peerline serve`, drives one call to warm it, then counts
# what the database logged for the database during an idle stretch (background jobs
# alone) and during C calls one at a time, and subtracts the jobs' share.
#
#   scripts/count-statements.sh [volunteers] [calls]
#
# Needs the local PostgreSQL (127.0.0.1:5432, user postgres) and read access to its log
# (PG_LOG, by default Debian's /var/log/postgresql/postgresql-15-main.log).
set -euo pipefail
cd "$(dirname "$0")/.."

volunteers=${1:-1000}
calls=${2:-20}
log=${PG_LOG:-/var/log/postgresql/postgresql-15-main.log}
database=peerline_statements
port=18190
token=load-test-token
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $database" \
  -c "CREATE DATABASE $database"
url="postgres://postgres@127.0.0.1:5432/$database"

cargo build --release --quiet --bin peerline --example voice_load
target=${CARGO_TARGET_DIR:-target}/release
"$target/examples/voice_load" seed --database-url "$url" --volunteers "$volunteers"
psql -q -h 127.0.0.1 -U postgres -c "ALTER DATABASE $database SET log_statement = 'all'"

DATABASE_URL="$url" PEERLINE_LISTEN="127.0.0.1:$port" PEERLINE_PUBLIC_URL="http://127.0.0.1:$port" \
TWILIO_AUTH_TOKEN="$token" RUST_LOG=error PEERLINE_SPOOL_DIR="$work/spool" \
  "$target/peerline" serve &
pid=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done

drive() {
  "$target/examples/voice_load" run --base-url "http://127.0.0.1:$port" --auth-token "$token" \
    --calls "$1" --concurrency 1 >/dev/null
}
size() { stat -c %s "$log"; }
# What the database logged for this database between two offsets of the log, one line a
# statement: the server process (one per connection) and the statement's first word.
# Simple queries (BEGIN, COMMIT) are logged as "statement: ...", prepared ones as
# "execute <name>: ...".
statements_between() {
  tail -c +"$(($1 + 1))" "$log" | head -c "$(($2 - $1))" | grep "@$database " \
    | grep -E "LOG: +(statement|execute [^:]*):" \
    | sed -E 's/^.*\[([0-9]+)\].*LOG: +(statement|execute [^:]*): *([A-Za-z]+).*$/\1 \3/' || true
}
# Statements and commits in such a list: a COMMIT, or a write outside BEGIN ... COMMIT
# (which commits on its own).
tally() {
  awk '{ kind = toupper($2); n++ }
    kind == "BEGIN" { open[$1] = 1 }
    kind == "COMMIT" { open[$1] = 0; commits++ }
    kind == "ROLLBACK" { open[$1] = 0 }
    kind ~ /^(INSERT|UPDATE|DELETE)$/ && !open[$1] { commits++ }
    END { printf "%d %d\n", n, commits }'
}

drive 1
sleep 2

seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

from=$(size); started=$(date +%s.%N)
sleep 10
to=$(size); idle_seconds=$(seconds_since "$started")
read -r idle_statements idle_commits < <(statements_between "$from" "$to" | tally)

from=$(size); started=$(date +%s.%N)
drive "$calls"
to=$(size); run_seconds=$(seconds_since "$started")
statements_between "$from" "$to" >"$work/lines"
read -r statements commits < <(tally <"$work/lines")

echo "volunteers: $volunteers, calls: $calls, one at a time (PostgreSQL statement log)"
echo "background jobs alone: $idle_statements statements, $idle_commits commits in $idle_seconds s"
echo "during the calls ($run_seconds s, with the /healthz floor): $statements statements, $commits commits"
awk -v s="$statements" -v c="$commits" -v is="$idle_statements" -v ic="$idle_commits" \
  -v it="$idle_seconds" -v rt="$run_seconds" -v n="$calls" 'BEGIN {
    printf "per complete call, less the jobs'\'' share: %.1f statements, %.1f commits\n",
      (s - is * rt / it) / n, (c - ic * rt / it) / n
  }'
echo "statements by kind during the calls:"
awk '{ print toupper($2) }' "$work/lines" | sort | uniq -c | sort -rn
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
