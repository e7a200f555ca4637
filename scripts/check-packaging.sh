#!/usr/bin/env bash
# Checks the packaging files for mistakes a machine without a Docker engine can find:
# the systemd unit with systemd-analyze (any warning fails), docker-compose.yml as YAML
# with the services and variables the README documents, and the Dockerfile's
# instructions, stages and unprivileged user.
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${CARGO_TARGET_DIR:-target}/debug/peerline"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "-- deploy/peerline.service"
if command -v systemd-analyze >/dev/null 2>&1; then
    cargo build --locked --quiet --bin peerline
    # Verify against the binary just built (verify checks that ExecStart exists).
    sed "s#/usr/local/bin/peerline#$(realpath "$binary")#" deploy/peerline.service >"$work/peerline.service"
    systemd-analyze verify "$work/peerline.service" 2>"$work/verify.log" || true
    if [ -s "$work/verify.log" ]; then
        cat "$work/verify.log" >&2
        exit 1
    fi
else
    echo "systemd-analyze is not installed: skipped"
fi

echo "-- docker-compose.yml and Dockerfile"
python3 - <<'PY'
import re, sys

errors = []

try:
    import yaml
except ImportError:
    yaml = None
if yaml:
    compose = yaml.safe_load(open("docker-compose.yml"))
    services = compose.get("services", {})
    for name in ("db", "peerline"):
        if name not in services:
            errors.append(f"docker-compose.yml: no service {name}")
    env = services.get("peerline", {}).get("environment", {})
    for var in ("DATABASE_URL", "PEERLINE_PUBLIC_URL", "PEERLINE_SECRET_KEY", "TWILIO_AUTH_TOKEN"):
        if var not in env:
            errors.append(f"docker-compose.yml: peerline does not set {var}")
    for volume in compose.get("volumes", {}):
        used = any(v.startswith(volume + ":") for s in services.values() for v in s.get("volumes", []))
        if not used:
            errors.append(f"docker-compose.yml: volume {volume} is not used")
else:
    print("PyYAML is not installed: docker-compose.yml skipped")

INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
                "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
text = open("Dockerfile").read()
logical = re.sub(r"\\\n", " ", text)
stages, user = [], None
for number, line in enumerate(logical.splitlines(), 1):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    word, _, rest = line.partition(" ")
    if word.upper() not in INSTRUCTIONS:
        errors.append(f"Dockerfile: unknown instruction {word!r}")
        continue
    if word == "FROM":
        parts = rest.split()
        stages.append(parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None)
        user = None
    if word == "COPY":
        source = re.search(r"--from=(\S+)", rest)
        if source and source.group(1) not in stages:
            errors.append(f"Dockerfile: COPY --from={source.group(1)} names no earlier stage")
    if word == "USER":
        user = rest.strip()
if not stages:
    errors.append("Dockerfile: no FROM")
if user in (None, "root", "0"):
    errors.append("Dockerfile: the final stage runs as root")

for error in errors:
    print(error, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
echo "packaging files are well formed"
