#!/usr/bin/env bash
# Channel benchmark: a release devnet node, then `agnt2 bench channels` (which deploys the
# Adjudicator and starts its own agnt2-hub) for one pair and for 1,000 pairs.
# Usage: scripts/bench-channels.sh   (run through `make bench`; needs `make contracts`)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/agnt2
[ -x "$BIN" ] && [ -x target/release/agnt2-hub ] || cargo build --release -p agnt2 -p agnt2-hub
tmp=$(mktemp -d)
cleanup() { kill "${node_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$BIN" node --dev --datadir "$tmp/node" --http.port "$port" -q >/dev/null 2>&1 & node_pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 200); do
  curl -sf -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$url" >/dev/null && break
  sleep 0.05
done
"$BIN" -q bench channels --l2.rpc-url "$url" --pairs 1 --updates 20000 --json
"$BIN" -q bench channels --l2.rpc-url "$url" --pairs 1000 --updates 100 --json
