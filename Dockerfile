# agnt2 in one image: the node (`agnt2`), the hub (`agnt2-hub`) and the sidecar
# (`agnt2-sidecar`), with the Adjudicator's build output and the example configuration.
# Used by etc/compose.yaml; run `make contracts` first (the Adjudicator artifact is copied in).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p agnt2 -p agnt2-hub -p agnt2-sidecar-bin

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates python3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/agnt2 /src/target/release/agnt2-hub \
     /src/target/release/agnt2-sidecar /usr/local/bin/
WORKDIR /opt/agnt2
COPY contracts/out/Adjudicator.sol contracts/out/Adjudicator.sol
COPY etc etc
COPY docs docs
