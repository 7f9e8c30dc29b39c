# shellcheck shell=bash
# Sourced by scripts/test.sh (and by its test, ./scripts): other_healers
# names whatever else may be restarting containers on this engine — a
# hemostatd daemon left running (by the README's run command, say, or in a
# container, whose process the host sees too) or a docker-autoheal
# container. Such a tool restarts the test containers as well, and the
# Docker scenarios it breaks would read like hemostatd's bugs.
#
# It prints one line per healer found and returns 1 when there is any, 0
# otherwise. HEMOSTAT_PROC (default /proc) is the process table it reads,
# and the first `docker` on PATH is asked for the containers: the test
# gives it a private state of both.

# hemostatd_subcommands are the first arguments that make hemostatd a tool
# run by hand or one of a daemon's plugin processes, not a daemon: a daemon
# has no argument or starts with a flag.
hemostatd_subcommands=" plugin validate plugins silence status events version help "

other_healers() {
	local proc=${HEMOSTAT_PROC:-/proc}
	local found=() dir comm args
	for dir in "$proc"/[0-9]*; do
		# read, not cat: no process per process of the table.
		{ read -r comm <"$dir/comm"; } 2>/dev/null || continue
		[ "$comm" = hemostatd ] || continue
		args=()
		{ mapfile -d '' -t args <"$dir/cmdline"; } 2>/dev/null || continue
		((${#args[@]})) || continue # exited meanwhile, or a kernel thread
		case " $hemostatd_subcommands " in
		*" ${args[1]-} "*) [ -n "${args[1]-}" ] && continue ;;
		esac
		found+=("hemostatd (pid ${dir##*/}: ${args[*]})")
	done
	local c
	while read -r c; do
		[ -n "$c" ] && found+=("container $c")
	done < <(docker ps --format '{{.Names}} ({{.Image}})' 2>/dev/null | grep -i autoheal || true)
	((${#found[@]})) || return 0
	local f
	for f in "${found[@]}"; do
		echo "another healer is acting on this engine: $f"
	done
	return 1
}
