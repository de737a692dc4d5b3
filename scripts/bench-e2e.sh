#!/usr/bin/env bash
# End-to-end JSON-RPC benchmark: agnt2 and anvil side by side in the same run.
# Usage: scripts/bench-e2e.sh [TXS]   (run through `make bench`; needs `make tools`)
set -euo pipefail
cd "$(dirname "$0")/.."
TXS=${1:-2000}
BIN=target/release/agnt2
ANVIL=.tools/bin/anvil
[ -x "$BIN" ] || cargo build --release -p agnt2
tmp=$(mktemp -d)
cleanup() { kill "${anvil_pid:-}" "${node_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_rpc() {
  for _ in $(seq 1 200); do
    curl -sf -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$1" >/dev/null && return 0
    sleep 0.05
  done
  echo "no RPC at $1" >&2; return 1
}

ap=$(free_port); np=$(free_port)
"$ANVIL" --port "$ap" --host 127.0.0.1 --silent --accounts 20 >/dev/null 2>&1 & anvil_pid=$!
"$BIN" node --dev --datadir "$tmp/agnt2" --http.port "$np" -q >/dev/null 2>&1 & node_pid=$!
wait_rpc "http://127.0.0.1:$ap"; wait_rpc "http://127.0.0.1:$np"

anvil_json=$("$BIN" bench rpc --url "http://127.0.0.1:$ap" --txs "$TXS" --label anvil)
agnt2_json=$("$BIN" bench rpc --url "http://127.0.0.1:$np" --txs "$TXS" --label agnt2)
big_json=$("$BIN" bench rpc --url "http://127.0.0.1:$np" --txs $((TXS * 10)) --label agnt2-10x)
echo "$anvil_json"; echo "$agnt2_json"; echo "$big_json"
python3 - "$anvil_json" "$agnt2_json" "$big_json" <<'PY'
import json, sys
a, b, c = (json.loads(x) for x in sys.argv[1:4])
print(json.dumps({"ratio_tps_agnt2_over_anvil": round(b["tps"] / a["tps"], 2)}))
PY
