#!/usr/bin/env bash
# The one test command: installs and starts what the tests need (redis-server,
# the Docker engine, buf), checks formatting, vet and the generated protobuf
# code, then runs every test with the race detector.
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

check_generated() {
	say "buf lint + buf breaking against main + buf generate reproduces the committed code"
	buf lint
	# Old plugin binaries must keep working: no wire-incompatible change
	# to the protocol against main (a no-op on main itself).
	if git rev-parse --verify -q main >/dev/null; then
		buf breaking --against ".git#branch=main"
	fi
	local before after
	before=$(find proto -name '*.go' -type f -exec sha256sum {} + | sort)
	buf generate
	after=$(find proto -name '*.go' -type f -exec sha256sum {} + | sort)
	if [ "$before" != "$after" ]; then
		echo "buf generate changed the generated code; commit its output:" >&2
		diff <(echo "$before") <(echo "$after") >&2 || true
		exit 1
	fi
}

check_static() {
	say "gofmt + go vet"
	local unformatted
	unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
	if [ -n "$unformatted" ]; then
		echo "gofmt would change:" >&2
		echo "$unformatted" >&2
		exit 1
	fi
	go vet ./...
}

install_packages
start_docker
install_tools
check_generated
check_static

if [ $# -gt 0 ]; then
	say "go test -race $*"
	go test -race -count=1 -timeout 40m "$@"
	exit
fi
# The Docker scenarios restart the shared engine once, so they run after
# every other package, alone.
say "go test -race (every package but the Docker scenarios)"
go test -race -count=1 -timeout 30m $(go list ./... | grep -v /internal/dockere2e)
say "go test -race ./internal/dockere2e (hemostatd healing real containers)"
go test -race -count=1 -timeout 30m ./internal/dockere2e
