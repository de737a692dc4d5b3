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
cleanup() { kill "${anvil_pid:-}" "${node_pid:-}" "${seq_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_rpc() {
  for _ in $(seq 1 200); do
    curl -sf -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$1" >/dev/null && return 0
    sleep 0.05
  done
  echo "no RPC at $1" >&2; return 1
}

ap=$(free_port); np=$(free_port); sp=$(free_port)
"$ANVIL" --port "$ap" --host 127.0.0.1 --silent --accounts 20 >/dev/null 2>&1 & anvil_pid=$!
"$BIN" node --dev --datadir "$tmp/agnt2" --http.port "$np" -q >/dev/null 2>&1 & node_pid=$!
# The same node with the sequential builder, for the builder on/off comparison.
"$BIN" node --dev --datadir "$tmp/agnt2-seq" --http.port "$sp" --builder.threads 1 -q >/dev/null 2>&1 & seq_pid=$!
wait_rpc "http://127.0.0.1:$ap"; wait_rpc "http://127.0.0.1:$np"; wait_rpc "http://127.0.0.1:$sp"

# A run that does not finish in 120 s (anvil stalls under some loads) is reported as stalled.
run() {
  "$BIN" bench rpc --txs "$1" --conns "$2" --batch 100 --url "$3" --label "$4" --timeout 120 2>/dev/null \
    || echo "{\"label\":\"$4\",\"txs\":$1,\"conns\":$2,\"stalled\":true,\"tps\":0}"
}
results=()
for conns in 1 4; do
  results+=("$(run "$TXS" "$conns" "http://127.0.0.1:$ap" "anvil-c$conns")")
  results+=("$(run "$TXS" "$conns" "http://127.0.0.1:$np" "agnt2-c$conns")")
done
results+=("$(run $((TXS * 10)) 4 "http://127.0.0.1:$np" "agnt2-c4-10x")")
results+=("$(run $((TXS * 10)) 4 "http://127.0.0.1:$sp" "agnt2-seq-c4-10x")")
printf '%s\n' "${results[@]}"
python3 - "${results[@]}" <<'PY'
import json, sys
r = {x["label"]: x for x in map(json.loads, sys.argv[1:])}
for c in ("c1", "c4"):
    a, b = r[f"anvil-{c}"]["tps"], r[f"agnt2-{c}"]["tps"]
    print(json.dumps({"conns": c[1:], "tps_ratio_agnt2_over_anvil": round(b / a, 2) if a else "anvil stalled"}))
p, q = r["agnt2-c4-10x"]["tps"], r["agnt2-seq-c4-10x"]["tps"]
print(json.dumps({"tps_ratio_parallel_over_sequential_builder": round(p / q, 2) if q else None}))
PY
