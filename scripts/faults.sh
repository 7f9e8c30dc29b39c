#!/usr/bin/env bash
# The fault suite: each TestFault* test breaks something for real — kills
# redis-server, SIGKILLs, SIGSTOPs or garbles a plugin process, floods the
# bus, kills hemostatd, restarts a private Docker engine (never the shared
# one) — against a real redis-server, real plugin processes, a real dockerd
# and hemostatd itself, and prints one table row: fault | outcome | figure.
# This script runs them all and prints the table (the README keeps a copy).
#
#   scripts/faults.sh                      every fault (about fifteen minutes)
#   scripts/faults.sh '^TestFaultFlood$'   one of them
#
# It needs what the tests need: run scripts/test.sh once on a fresh machine.
# scripts/test.sh runs it too; its own go test runs skip ^TestFault.
set -uo pipefail
cd "$(dirname "$0")/.."

run=${1:-^TestFault}
out=$(mktemp -t hemostat-faults.XXXXXX)
trap 'rm -f "$out"' EXIT

# -v passes the rows through (go test shows a passing package's output only
# with it); the rows are also printed as they come, with the rest.
go test -race -count=1 -v -timeout 40m -run "$run" ./internal/e2e ./internal/dockere2e 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}

printf '\n== fault table\n\n'
printf '| fault | outcome | figure |\n|---|---|---|\n'
grep -h '^FAULT-ROW ' "$out" | sed -e 's/^FAULT-ROW /| /' -e 's/$/ |/'
if [ "$rc" -ne 0 ]; then
	printf '\nthe fault suite FAILED (go test exit %d)\n' "$rc" >&2
fi
exit "$rc"
