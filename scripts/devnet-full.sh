#!/usr/bin/env bash
# The full devnet on embedded defaults: anvil as the L1 (127.0.0.1:8546, 2 s blocks), `agnt2
# launch` deploying the OP Stack's L1 contracts and running the rollup node (127.0.0.1:8545)
# that follows the L1 and proposes output roots, the channel Adjudicator on the rollup, and
# agnt2-hub (127.0.0.1:9545, WebSocket 9546). Ctrl-C stops everything.
# Usage: scripts/devnet-full.sh   (run through `make devnet-full`)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/bin:$PATH"
DATA=${DATA:-.devnet-full}
KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 # dev account 0
L1=http://127.0.0.1:8546
L2=http://127.0.0.1:8545
mkdir -p "$DATA"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
wait_rpc() {
  for _ in $(seq 1 600); do
    curl -sf -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$1" >/dev/null && return 0
    sleep 0.1
  done
  echo "no RPC at $1" >&2; return 1
}

# anvil's state lives in the datadir too, so a restart keeps the L1 and reuses the deployment.
anvil --host 127.0.0.1 --port 8546 --block-time 2 --silent --state "$DATA/anvil-state.json" & pids+=($!)
wait_rpc "$L1"
target/debug/agnt2 launch --dev --l1.rpc-url "$L1" --l1.key "$KEY" --datadir "$DATA/node" --http.port 8545 & pids+=($!)
wait_rpc "$L2"
if [ ! -s "$DATA/adjudicator" ]; then
  (cd contracts && forge create src/channels/Adjudicator.sol:Adjudicator --rpc-url "$L2" --private-key "$KEY" --broadcast --constructor-args 60) \
    | awk '/Deployed to/{print $3}' > "$DATA/adjudicator"
fi
ADJ=$(cat "$DATA/adjudicator")
target/debug/agnt2-hub --l2.rpc-url "$L2" --adjudicator "$ADJ" --datadir "$DATA/hub" & pids+=($!)
echo
echo "L1 (anvil)   $L1"
echo "L2 (agnt2)   $L2   (deployment: $DATA/node/l1-deployment.json)"
echo "Adjudicator  $ADJ"
echo "Hub          127.0.0.1:9545 (ws 127.0.0.1:9546)"
echo "Try: target/debug/agnt2 bridge deposit --value 1ether --private-key \$KEY"
wait -n "${pids[@]}"
