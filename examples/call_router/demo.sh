#!/usr/bin/env bash
# One-command demo of the call router (seed 000's "Centralized Call Routing Application") against a running
# twin: starts examples/call_router/router.py on 2880-2889, plays examples/scenarios/router-demo.yaml (7
# outside calls), then prints the router's decisions, its log and the best-practice audit of its session.
#
#   make run                          # in another terminal (or CALLYARD_SERVER=http://host:port)
#   examples/call_router/demo.sh      # add --webhook to receive the notifications as webhooks
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVER="${CALLYARD_SERVER:-http://127.0.0.1:8080}"
PY="${PYTHON:-.venv/bin/python}"
CALLYARD="${CALLYARD:-.venv/bin/callyard}"
export CALLYARD_SERVER="$SERVER"

if ! "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1].rstrip("/") + "/_callyard/health", timeout=3)' \
     "$SERVER" 2>/dev/null; then
  echo "No callyard twin answers at $SERVER." >&2
  echo "Start one in another terminal with \`make run\` (or point CALLYARD_SERVER at one), then run $0 again." >&2
  exit 1
fi

WORK="$(mktemp -d)"
ROUTER=""
cleanup() { [ -n "$ROUTER" ] && kill "$ROUTER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

"$PY" examples/call_router/router.py --twin-url "$SERVER" --endpoints 2880-2889 --max-calls 7 --duration 60 "$@" \
  >"$WORK/decisions.jsonl" 2>"$WORK/router.log" &
ROUTER=$!
for _ in $(seq 1 150); do
  grep -q '"event":"ready"' "$WORK/decisions.jsonl" && break
  if ! kill -0 "$ROUTER" 2>/dev/null; then echo "the router did not start:" >&2; cat "$WORK/router.log" >&2; exit 1; fi
  sleep 0.1
done
SESSION="$(sed -n 's/.*"event":"ready".*"sessionId":"\([0-9a-f-]*\)".*/\1/p' "$WORK/decisions.jsonl")"
echo "== the router is listening (X-Mitel-App session $SESSION); playing examples/scenarios/router-demo.yaml"

status=0
"$CALLYARD" scenario run examples/scenarios/router-demo.yaml --server "$SERVER" --quiet || status=$?
wait "$ROUTER" || status=$?
ROUTER=""

echo
echo "== the router's decisions (one JSON line each)"
cat "$WORK/decisions.jsonl"
echo
echo "== the router's log"
cat "$WORK/router.log"
echo
echo "== the best-practice audit of the router's session"
"$CALLYARD" audit --server "$SERVER" --session "$SESSION" --all || status=$?
exit "$status"
