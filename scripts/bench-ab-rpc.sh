#!/usr/bin/env bash
# A/B of the JSON-RPC path: two --dev nodes (two builds) side by side, agnt2 bench rpc against each in turn.
set -u
# Usage: scripts/bench-ab-rpc.sh OLD_BINARY NEW_BINARY (release builds of two commits)
OLD=${1:?old agnt2 binary}; NEW=${2:?new agnt2 binary}
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
po=$(free_port); pn=$(free_port)
"$OLD" node --dev --datadir "$D/old" --http.port "$po" -q >/dev/null 2>&1 & p1=$!
"$NEW" node --dev --datadir "$D/new" --http.port "$pn" -q >/dev/null 2>&1 & p2=$!
sleep 2
for round in 1 2 3; do
  for which in old new; do
    port=$po; [ $which = new ] && port=$pn
    r1=$($NEW bench rpc --txs 2000 --conns 1 --batch 100 --url http://127.0.0.1:$port --label $which-c1 --timeout 120 2>/dev/null)
    r4=$($NEW bench rpc --txs 20000 --conns 4 --batch 100 --url http://127.0.0.1:$port --label $which-c4-20k --timeout 120 2>/dev/null)
    echo "$r1"; echo "$r4"
  done
done
kill $p1 $p2; wait
