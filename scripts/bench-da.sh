#!/usr/bin/env bash
# DA benchmark: each workload's channel is posted to a real anvil L1 (as calldata and as blobs)
# next to the computed sizes and OP's Fjord estimate. Usage: scripts/bench-da.sh [TXS]
# (run through `make bench`; needs `make tools contracts`).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/agnt2
TXS=${1:-5000}
[ -x "$BIN" ] || cargo build --release -p agnt2
cleanup() { kill "${anvil_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
.tools/bin/anvil --host 127.0.0.1 --port "$port" --silent >/dev/null 2>&1 & anvil_pid=$!
for _ in $(seq 1 100); do
  curl -sf -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$port" >/dev/null && break
  sleep 0.1
done
for w in transfer erc20 agent swap contended mixed; do
  "$BIN" -q bench da --workload "$w" --txs "$TXS" --l1.rpc-url "http://127.0.0.1:$port"
done
