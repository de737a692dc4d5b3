#!/usr/bin/env bash
# Settlement benchmark: anvil as the L1 (2 s blocks), a release `agnt2 launch` (1 s L2 blocks,
# 12 s finalization period), then `agnt2 bench settlement --withdrawal`.
# Usage: scripts/bench-settlement.sh   (run through `make bench`; needs `make tools`)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/agnt2
[ -x "$BIN" ] || cargo build --release -p agnt2
tmp=$(mktemp -d)
cleanup() { kill "${anvil_pid:-}" "${node_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
l1p=$(free_port); l2p=$(free_port)
.tools/bin/anvil --host 127.0.0.1 --port "$l1p" --block-time 2 --silent >/dev/null 2>&1 & anvil_pid=$!
for _ in $(seq 1 100); do
  curl -sf -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$l1p" >/dev/null && break
  sleep 0.1
done
"$BIN" -q launch --dev --l1.rpc-url "http://127.0.0.1:$l1p" --l1.key 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 \
  --datadir "$tmp/node" --http.port "$l2p" --finalization-period 12 --submission-interval 10 >/dev/null 2>&1 & node_pid=$!
for _ in $(seq 1 300); do
  curl -sf -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"optimism_rollupConfig","params":[]}' "http://127.0.0.1:$l2p" | grep -q result && break
  sleep 0.2
done
"$BIN" -q bench settlement --l1.rpc-url "http://127.0.0.1:$l1p" --l2.rpc-url "http://127.0.0.1:$l2p" --deposits 20 --withdrawal --json
