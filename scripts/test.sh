#!/usr/bin/env bash
# The one test command: installs and starts what the tests need (redis-server,
# chromium, the Docker engine, buf), checks formatting, vet and the generated
# protobuf code, then runs every test with the race detector.
#
#   scripts/test.sh            everything
#   scripts/test.sh ./host/... only these packages (the checks still run)
set -euo pipefail
cd "$(dirname "$0")/.."

BUF_VERSION=v1.75.0
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2

say() { printf '\n== %s\n' "$*"; }

install_packages() {
	local missing=()
	command -v redis-server >/dev/null || missing+=(redis-server)
	command -v redis-cli >/dev/null || missing+=(redis-tools)
	command -v dockerd >/dev/null || missing+=(docker.io)
	# The dashboard's browser test (internal/dockere2e TestDashboard) drives
	# headless Chromium; it fails, not skips, without it.
	command -v chromium >/dev/null || missing+=(chromium)
	if ((${#missing[@]})); then
		say "installing ${missing[*]}"
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}

# clear_stale_engine removes the pid files of a dockerd (and of the
# containerd it manages) that was killed outright: if such a pid now
# belongs to another process, a new dockerd refuses to start or waits for
# a containerd that is not there.
clear_stale_engine() {
	local f comm
	for f in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
		[ -f "$f" ] || continue
		comm=$(ps -o comm= -p "$(cat "$f")" 2>/dev/null || true)
		case "$comm" in
		dockerd | containerd) ;;
		*) rm -f "$f" ;;
		esac
	done
}

start_docker() {
	if docker info >/dev/null 2>&1; then
		return
	fi
	local attempt log
	for attempt in 1 2; do
		say "starting dockerd (attempt $attempt)"
		clear_stale_engine
		log=$(mktemp -t hemostat-dockerd.XXXXXX)
		nohup dockerd --bridge=none --iptables=false >"$log" 2>&1 &
		local pid=$!
		for _ in $(seq 1 60); do
			docker info >/dev/null 2>&1 && return
			kill -0 "$pid" 2>/dev/null || break # it gave up already
			sleep 1
		done
		echo "dockerd did not come up; the end of its log:" >&2
		tail -n 20 "$log" >&2
		# Stop what this attempt left behind — the engine, and the
		# containerd it manages — before the next.
		pkill -x dockerd || true
		pkill -f 'containerd --config /var/run/docker/containerd/containerd.toml' || true
		sleep 3
	done
	exit 1
}

install_tools() {
	export GOBIN="$PWD/.cache/bin"
	export PATH="$GOBIN:$PATH"
	[ -x "$GOBIN/buf" ] && "$GOBIN/buf" --version 2>/dev/null | grep -q "${BUF_VERSION#v}" ||
		go install "github.com/bufbuild/buf/cmd/buf@$BUF_VERSION"
	go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
	go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
}

# The checks and test groups below return their failure instead of exiting,
# so that run_step can record it and the rest still runs: a gofmt nit or one
# failing package must not hide the result of every other package.
check_generated() {
	buf lint || return
	# Old plugin binaries must keep working: no wire-incompatible change
	# to the protocol against main (a no-op on main itself).
	if git rev-parse --verify -q main >/dev/null; then
		buf breaking --against ".git#branch=main" || return
	fi
	local before after
	before=$(find proto -name '*.go' -type f -exec sha256sum {} + | sort)
	buf generate || return
	after=$(find proto -name '*.go' -type f -exec sha256sum {} + | sort)
	if [ "$before" != "$after" ]; then
		echo "buf generate changed the generated code; commit its output:" >&2
		diff <(echo "$before") <(echo "$after") >&2 || true
		return 1
	fi
}

check_static() {
	local unformatted
	unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go')) || return
	if [ -n "$unformatted" ]; then
		echo "gofmt would change:" >&2
		echo "$unformatted" >&2
		return 1
	fi
	go vet ./...
}

# go_test runs one group of packages and keeps its output, from which the
# final summary takes one line per package.
go_test() {
	go test -race -count=1 "$@" 2>&1 | tee -a "$test_output"
}

# fuzz_briefly runs each fuzz target for a budget of executions beyond its
# seed corpus (which the plain test run already replays). The budget is a
# count, not a duration: go1.26's fuzz coordinator can report a bare "context
# deadline exceeded" at the end of a -fuzztime duration on a loaded machine
# (golang/go#75804, fixed in go1.27), which is a failure with no input behind
# it. A count has no deadline to race. HEMOSTAT_FUZZTIME overrides every
# target's budget (a count like 500000x or a duration); longer by hand:
#   go test -run XXX -fuzz '^FuzzDecode$' -fuzztime 10m ./host/protocol
fuzz_briefly() {
	local target pkg budget rc=0
	while read -r target pkg budget; do
		go test -run XXX -fuzz "^$target\$" -fuzztime "${HEMOSTAT_FUZZTIME:-$budget}" "$pkg" 2>&1 |
			grep -v '^fuzz: elapsed' || rc=1
	done <<-EOF
		FuzzDecode ./host/protocol 60000x
		FuzzParseTimestamp ./host/protocol 60000x
		FuzzParse ./host/config 40000x
	EOF
	return $rc
}

# run_step runs one check or test group and records a failure rather than
# stopping at it (errexit does not apply inside a command tested by ||).
failed_steps=()
run_step() {
	local name=$1
	shift
	say "$name"
	local rc=0
	"$@" || rc=$?
	if [ "$rc" -ne 0 ]; then
		failed_steps+=("$name (exit $rc)")
	fi
}

# summarize prints every package's result and every failed step, then exits:
# non-zero if anything failed.
summarize() {
	say "summary: every package"
	# go test prints "ok", "FAIL" or "?" then a tab and the package for each
	# package; the bare "FAIL" that ends its output has no tab.
	grep -E $'^(ok|FAIL|\\?) *\t' "$test_output" || echo "(no package ran)"
	if ((${#failed_steps[@]})); then
		say "FAILED: ${#failed_steps[@]} step(s)"
		printf '  %s\n' "${failed_steps[@]}"
		exit 1
	fi
	say "all passed"
	exit 0
}

# shellcheck source=scripts/healers.sh
source scripts/healers.sh

# refuse_other_healers stops the run when another healer acts on this
# engine: it restarts the test containers too, and the Docker tests it
# breaks would read like hemostatd's bugs. HEMOSTAT_TEST_OTHER_HEALERS=ignore
# runs them anyway.
refuse_other_healers() {
	other_healers && return 0
	if [ "${HEMOSTAT_TEST_OTHER_HEALERS:-}" = ignore ]; then
		echo "   HEMOSTAT_TEST_OTHER_HEALERS=ignore: running the Docker tests anyway; failures may be its doing."
		return 0
	fi
	echo "   It would restart the test containers too, and the Docker tests would fail for that,"
	echo "   not for a bug in hemostatd. Stop it (or remove the docker-autoheal container) and rerun;"
	echo "   HEMOSTAT_TEST_OTHER_HEALERS=ignore runs them anyway."
	return 1
}

install_packages
start_docker
install_tools

test_output=$(mktemp -t hemostat-test.XXXXXX)
trap 'rm -f "$test_output"' EXIT

say "another healer on this engine?"
refuse_other_healers || exit 1
run_step "buf lint + buf breaking against main + buf generate reproduces the committed code" check_generated
run_step "gofmt + go vet" check_static

if [ $# -gt 0 ]; then
	run_step "go test -race $*" go_test -timeout 40m "$@"
	summarize
fi
run_step "fuzz every decoder briefly (HEMOSTAT_FUZZTIME, default a count of executions each)" fuzz_briefly
# The fault tests run once, in the fault suite, which prints their table.
run_step "go test -race (every package but the Docker scenarios and the fault suite)" \
	go_test -timeout 30m -skip '^TestFault' $(go list ./... | grep -v /internal/dockere2e)
run_step "the fault suite (scripts/faults.sh)" scripts/faults.sh
# The Docker scenarios restart the shared engine once, so they run after
# every other package, alone — whatever the other packages' result.
# Checked again: one started while the other packages ran.
say "another healer on this engine?"
if refuse_other_healers; then
	run_step "go test -race ./internal/dockere2e (hemostatd healing real containers)" \
		go_test -timeout 30m -skip '^TestFault' ./internal/dockere2e
else
	failed_steps+=("go test -race ./internal/dockere2e: not run, another healer is acting on this engine")
fi
summarize
