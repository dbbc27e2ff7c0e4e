#!/usr/bin/env bash
# One-command demo of the call control tool (seed 000's "Client Call Control Tool") against a running twin:
# starts examples/call_control/callcontrol.py for bob (2881) with demo-script.txt (answer, consult 2882,
# supervised transfer), plays examples/scenarios/call-control-demo.yaml (a customer calls bob), then prints
# what the tool did, the call record it kept and the best-practice audit of its session.
#
#   make run                          # in another terminal (or CALLYARD_SERVER=http://host:port)
#   examples/call_control/demo.sh
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
RECORD="${CALLCONTROL_RECORD:-$WORK/calls.jsonl}"
TOOL=""
cleanup() { [ -n "$TOOL" ] && kill "$TOOL" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

"$PY" examples/call_control/callcontrol.py --twin-url "$SERVER" --user bob@acme.example --record "$RECORD" \
  --script examples/call_control/demo-script.txt "$@" >"$WORK/tool.out" 2>"$WORK/tool.log" &
TOOL=$!
for _ in $(seq 1 150); do
  grep -q ' ready: ' "$WORK/tool.out" && break
  if ! kill -0 "$TOOL" 2>/dev/null; then echo "the tool did not start:" >&2; cat "$WORK/tool.log" >&2; exit 1; fi
  sleep 0.1
done
SESSION="$(sed -n 's/.* ready: .*session-id=\([0-9a-f-]*\);.*/\1/p' "$WORK/tool.out")"
echo "== the tool follows bob's calls (X-Mitel-App session $SESSION); playing examples/scenarios/call-control-demo.yaml"

status=0
"$CALLYARD" scenario run examples/scenarios/call-control-demo.yaml --server "$SERVER" --quiet || status=$?
wait "$TOOL" || status=$?
TOOL=""

echo
echo "== what the tool did"
cat "$WORK/tool.out"
if [ -s "$WORK/tool.log" ]; then echo; echo "== its log"; cat "$WORK/tool.log"; fi
echo
echo "== the call record ($RECORD)"
cat "$RECORD" 2>/dev/null || echo "(empty)"
echo
echo "== the best-practice audit of the tool's session"
"$CALLYARD" audit --server "$SERVER" --session "$SESSION" --all || status=$?
exit "$status"
