#!/usr/bin/env bash
# The end-to-end demo on the bundled storefront sample (run by `make demo`):
# check -> rule tests -> production bundle -> its report over the sample events (an HTML page
# that stays after the demo) -> local Graph API emulator -> deliver the sample
# events through the bundle with `capic run` -> serve the same bundle live with `capic serve`
# and post the events to it -> what the emulator received.
set -euo pipefail
cd "$(dirname "$0")/.."

SAMPLE=samples/storefront
WORK=$(mktemp -d "${TMPDIR:-/tmp}/capic-demo.XXXXXX")
EMULATOR_PID=""
SERVE_PID=""
cleanup() {
  for pid in "$SERVE_PID" "$EMULATOR_PID"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# Bold headings on a terminal only: no escape codes in a log or a pipe.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then BOLD=$'\033[1m'; PLAIN=$'\033[0m'; else BOLD=""; PLAIN=""; fi
step() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$PLAIN"; }
free_port() { python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_http() {  # URL: wait until it answers 200
  python - "$1" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(f"{sys.argv[1]} did not answer")
PY
}

step "capic check $SAMPLE (every environment at once)"
capic check "$SAMPLE" --output-format concise
echo "no errors or warnings (the lines above are information: match-quality estimates, hints)"

step "capic test $SAMPLE"
capic test "$SAMPLE"

step "capic build $SAMPLE --env production"
BUNDLE=$(capic build "$SAMPLE" --env production -o "$WORK/dist")
capic verify "$BUNDLE"
capic inspect "$BUNDLE"

step "capic report: what the production bundle would send for $SAMPLE/events.jsonl (nothing is sent)"
REPORT="${CAPIC_DEMO_REPORT:-$PWD/build/demo/storefront-report.html}"
capic report --bundle "$BUNDLE" --events "$SAMPLE/events.jsonl" -o "$REPORT"
echo "open it in a browser: $REPORT"

step "start the local Graph API emulator"
PORT=$(free_port)
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
# 1 only says that some events were rejected (the sample holds edge cases on purpose: the
# "rejected:" lines above); anything above 1 is a real failure.
[ "$status" -le 1 ] || exit "$status"

step "capic serve --bundle (production): the live endpoint, delivering to the emulator"
SERVE_PORT=$(free_port)
ADMIN_PORT=$(free_port)
CAPIC_INGEST_TOKEN=demo-ingest-token META_CAPI_TOKEN=demo-token \
  capic serve --bundle "$BUNDLE" --env production --port "$SERVE_PORT" --admin-port "$ADMIN_PORT" \
  --endpoint "http://127.0.0.1:$PORT" --outbox "$WORK/serve.sqlite" --max-age 0.2 \
  --insecure-cookies --no-access-log 2>"$WORK/serve.log" &
SERVE_PID=$!
wait_http "http://127.0.0.1:$ADMIN_PORT/readyz"
echo "listening on http://127.0.0.1:$SERVE_PORT (admin http://127.0.0.1:$ADMIN_PORT)"

step "POST the sample events to /v1/events (times moved to now, 100 per request)"
python - "$SAMPLE/events.jsonl" "http://127.0.0.1:$SERVE_PORT" <<'PY'
import collections, datetime, json, sys, urllib.request

events = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
stamps = [e["event"].get("xdm", {}).get("timestamp") for e in events]
parsed = [datetime.datetime.fromisoformat(s.replace("Z", "+00:00")) for s in stamps if s]
shift = datetime.datetime.now(datetime.timezone.utc) - max(parsed) if parsed else None
for e in events:  # the same rebasing as capic run --rebase-time
    xdm = e["event"].get("xdm", {})
    if shift and xdm.get("timestamp"):
        t = datetime.datetime.fromisoformat(xdm["timestamp"].replace("Z", "+00:00")) + shift
        xdm["timestamp"] = t.isoformat().replace("+00:00", "Z")
totals, reasons = collections.Counter(), collections.Counter()
for i in range(0, len(events), 100):
    request = urllib.request.Request(
        sys.argv[2] + "/v1/events",
        data=json.dumps(events[i : i + 100]).encode(),
        headers={"Authorization": "Bearer demo-ingest-token", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as reply:
        answer = json.load(reply)
        assert reply.status == 202, reply.status
    for key in ("accepted", "unmatched", "rejected"):
        totals[key] += answer[key]
    reasons.update(r["reason"] for r in answer["rejections"])
print(f"  202 Accepted: {totals['accepted']} accepted (durable in the outbox), "
      f"{totals['unmatched']} matched no rule, {totals['rejected']} rejected")
for reason, n in reasons.most_common():
    print(f"    rejected: {reason}  {n}")
PY

step "POST one browser hit to /v1/collect (a page reached from an ad: ?fbclid=...)"
python - "http://127.0.0.1:$SERVE_PORT" <<'PY'
import datetime, json, sys, urllib.request

now = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
event = {"xdm": {"eventType": "web.webpagedetails.pageViews", "timestamp": now,
                 "web": {"webPageDetails": {"URL": "https://shop.example.com/?fbclid=IwARdemo"}}},
         "data": {"meta": {"conversionData": {"eventId": "demo-collect-1"}}}}
body = {"event": event, "url": "https://shop.example.com/?fbclid=IwARdemo", "referrer": None}
request = urllib.request.Request(sys.argv[1] + "/v1/collect", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "text/plain", "User-Agent": "Mozilla/5.0 (demo)"})
with urllib.request.urlopen(request) as reply:
    print(f"  {reply.status} No Content; first-party cookies set by the collector:")
    for value in reply.headers.get_all("Set-Cookie"):
        print(f"    Set-Cookie: {value}")
PY

step "capic serve /metrics (admin port), then SIGTERM: drain and stop"
sleep 1
python - "http://127.0.0.1:$ADMIN_PORT/metrics" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1]).read().decode()
for line in text.splitlines():
    if line.startswith(("capic_events_total", "capic_delivered_events_total", "capic_outbox_depth")):
        print("  " + line)
PY
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
SERVE_PID=""
sed 's/^/  /' "$WORK/serve.log"

step "what the emulator received, per event name (capic run, then capic serve)"
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
