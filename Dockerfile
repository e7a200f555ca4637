# peerline in a container: built with the Rust toolchain, run as an unprivileged user
# from a small Debian image. The database is SQLite in /var/lib/peerline unless
# DATABASE_URL points at PostgreSQL (see docker-compose.yml).
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin peerline

FROM debian:bookworm-slim
# ca-certificates: Twilio's REST API is reached over TLS with the system's roots.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/peerline --create-home peerline \
    && chmod 0700 /var/lib/peerline
COPY --from=build /src/target/release/peerline /usr/local/bin/peerline
USER peerline
WORKDIR /var/lib/peerline
ENV DATABASE_URL="sqlite:///var/lib/peerline/peerline.db?mode=rwc" \
    PEERLINE_LISTEN="0.0.0.0:8080" \
    PEERLINE_SPOOL_DIR="/var/lib/peerline/spool" \
    PEERLINE_LOG_FORMAT="json"
EXPOSE 8080
VOLUME ["/var/lib/peerline"]
# SIGTERM: the server finishes the requests under way, then the background jobs theirs.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/peerline"]
CMD ["serve"]
