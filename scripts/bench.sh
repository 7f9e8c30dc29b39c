#!/usr/bin/env bash
# Runs the benchmarks behind the README's figures. Every figure is reported
# beside a baseline measured in the same run (raw PUBLISH, a bare pub/sub
# round trip, the engine event's own arrival, a direct call).
#
#   scripts/bench.sh              all of them (a few minutes)
#   scripts/bench.sh ./host/bus   one package
#
# It needs what the tests need: run scripts/test.sh once on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# The burst benchmark's baseline is a Python relay on Debian's python3-redis.
if ! /usr/bin/python3 -c 'import redis' 2>/dev/null; then
	apt-get install -y -qq python3-redis >/dev/null
fi

if [ $# -gt 0 ]; then
	go test -run XXX -bench . "$@"
	exit
fi
go test -run XXX -bench . -benchtime 3s ./host/bus
go test -run XXX -bench . ./host/gate ./host/supervisor ./host/config ./plugins/analyzer-threshold
go test -run XXX -bench BenchmarkAlertToDecision -benchtime 500x ./internal/e2e
go test -run XXX -bench BenchmarkBurst -benchtime 1x ./internal/e2e
go test -run XXX -bench BenchmarkStorm -benchtime 1x ./internal/e2e
go test -run XXX -bench BenchmarkLLMFallback -benchtime 20x ./internal/e2e
go test -run XXX -bench . ./plugins/monitor ./plugins/responder-docker
# Detection (BenchmarkDetectionLatency) and reaction (BenchmarkReaction:
# unhealthy → restart begins, crash → running again, beside a minimal
# event-driven healer in the same run): one iteration is 20 events each.
go test -run XXX -bench . -benchtime 1x -timeout 40m ./internal/dockere2e
