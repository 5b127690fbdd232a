#!/usr/bin/env bash
# The end-to-end demo on the bundled storefront sample (run by `make demo`):
# check -> rule tests -> production bundle -> local Graph API emulator -> deliver the sample
# events through the bundle -> delivery summary and what the emulator received.
set -euo pipefail
cd "$(dirname "$0")/.."

SAMPLE=samples/storefront
WORK=$(mktemp -d "${TMPDIR:-/tmp}/capic-demo.XXXXXX")
EMULATOR_PID=""
cleanup() {
  if [ -n "$EMULATOR_PID" ]; then kill "$EMULATOR_PID" 2>/dev/null || true; wait "$EMULATOR_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "capic check $SAMPLE (every environment)"
for env in development staging production; do
  capic check "$SAMPLE" --env "$env" --output-format concise
done
echo "clean: no errors or warnings"

step "capic test $SAMPLE"
capic test "$SAMPLE"

step "capic build $SAMPLE --env production"
BUNDLE=$(capic build "$SAMPLE" --env production -o "$WORK/dist")
capic verify "$BUNDLE"
capic inspect "$BUNDLE"

step "start the local Graph API emulator"
PORT=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
capic emulator --port "$PORT" --token demo-token --record "$WORK/received.jsonl" >"$WORK/emulator.log" 2>&1 &
EMULATOR_PID=$!
for _ in $(seq 50); do
  if python -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $PORT)))"; then break; fi
  sleep 0.1
done

step "capic run --bundle (production) over $SAMPLE/events.jsonl -> emulator"
set +e
META_CAPI_TOKEN=demo-token capic run --bundle "$BUNDLE" --events "$SAMPLE/events.jsonl" \
  --rebase-time --endpoint "http://127.0.0.1:$PORT" --outbox "$WORK/outbox.sqlite"
status=$?
set -e
echo "capic run exited with $status (1 = some sample events were rejected on purpose: they are edge cases)"

step "what the emulator received, per event name"
python - "$WORK/received.jsonl" <<'PY'
import collections, json, sys
counts = collections.Counter()
with open(sys.argv[1], encoding="utf-8") as fh:
    for line in fh:
        if line.strip():
            counts[json.loads(line)["event"]["event_name"]] += 1
for name, n in sorted(counts.items()):
    print(f"  {name:<24} {n}")
print(f"  {'total':<24} {sum(counts.values())}")
PY
[ "$status" -le 1 ]
