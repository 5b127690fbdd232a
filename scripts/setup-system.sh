#!/usr/bin/env bash
# Installs the real components the test suite drives (idempotent; run by .ci/run and `make
# system`). Only Debian packages and registry packages: no downloaded binaries.
#
#   scripts/setup-system.sh            install what is missing
#   scripts/setup-system.sh --check    exit 1 (listing them) when something is missing
set -euo pipefail

# command -> Debian package that provides it
declare -A PACKAGES=(
  [wrk]=wrk             # benchmarks/serve.py: the HTTP load generator
  [chromium]=chromium   # tests/test_report_browser.py: renders capic report's page headless
  [node]=nodejs         # editors/vscode: the TextMate grammar tests, `node --check` of the client
  [npm]=npm             # installs editors/vscode's tools from its lockfile (make vscode)
  [redis-server]=redis-server   # tests/redis_harness.py: the Redis Streams queue tests
  [git]=git             # tests/test_bundle.py: the commit a bundle records
  [tar]=tar             # tests/test_bundle.py: a bundle repacked with the tar command
  [openssl]=openssl     # tests/test_bundle.py: Ed25519 keys made with openssl
)

missing=()
for cmd in "${!PACKAGES[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${PACKAGES[$cmd]}")
done

if [ "${1:-}" = "--check" ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    printf 'missing: %s\n' "${missing[@]}"
    exit 1
  fi
  exit 0
fi

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi
