#!/usr/bin/env bash
# agnt2 bench sidecar (release): the free route against a bare echo and against a service that
# spends 200 µs of CPU per request, and paid requests of one client over 1 and 4 channels. The
# benchmark starts its own devnet, hub, upstream and sidecar.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/agnt2
# nginx as the reference proxy on the free route (`make bench-tools`), when it is there.
NGINX=.tools/nginx/usr/sbin/nginx
REF=()
if [ -x "$NGINX" ]; then REF=(--nginx "$NGINX"); else echo "(no $NGINX: run make bench-tools for the nginx reference)"; fi
echo "== sidecar: bare upstream, 1 channel"
$BIN -q bench sidecar "${REF[@]}"
echo "== sidecar: bare upstream, 4 channels"
$BIN -q bench sidecar --channels 4 --latency-requests 1000 --throughput-requests 10000
echo "== sidecar: upstream with 200 µs of work per request"
$BIN -q bench sidecar "${REF[@]}" --upstream-work-us 200 --throughput-requests 20000 --latency-requests 2000 --paid-requests 1000
