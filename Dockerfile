# gonogo in a container: the binary, git (gonogo reads the deployed version's files with it) and CA
# certificates; no toolchain. Run it on a repository mounted at /repo:
#   docker run --rm -v "$PWD:/repo" gonogo check
# Build: docker build -t gonogo .
#
# Stage 1: build. pg_query compiles the real PostgreSQL parser and runs bindgen: it needs libclang.
FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libclang-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin gonogo \
 && strip target/release/gonogo

# Stage 2: what runs.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 gonogo
COPY --from=build /src/target/release/gonogo /usr/local/bin/gonogo
USER gonogo
# The mounted repository belongs to another user: git refuses to read it unless it is marked safe.
RUN git config --global --add safe.directory '*'
WORKDIR /repo
ENTRYPOINT ["gonogo"]
CMD ["check"]
