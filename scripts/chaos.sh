#!/usr/bin/env bash
# energylabel's own fault-injection suite, in one command:
#
#   scripts/chaos.sh [-short] [-strict] [DIR]
#
# Starts three etcd members and three energylabeld replicas, each in a
# network namespace of its own (so it needs root), drives ten concurrent
# writers and readers against them over gRPC and HTTP, injects faults on a
# schedule (member and leader SIGKILL, SIGSTOP of a follower and of the
# leader, replica SIGKILL and SIGSTOP, compaction with a replica stopped,
# quorum loss, a one-member partition, a member cut off from its peers
# only), checks the clients' history and writes DIR/report.md. Partitions
# are real: every process has a network namespace of its own, on veth
# pairs to two bridges (clients, etcd peers), and a partition takes a
# bridge port down. Run elchaos -h (built into DIR/bin) for its flags.
#
#   -short   the CI schedule, about 3 minutes in all (else about 12)
#   -strict  a failed soft target (latency, staleness, partition, quorum-loss
#            timing, convergence, linearizability) fails the run too
#   DIR      where the report, the history (JSON) and the logs go (default:
#            a new temporary directory, kept, its path printed); etcd's data
#            directories in DIR/data are removed at the end
#
# Exit status: 0 when every hard check passed (no acknowledged write lost,
# no phantom, no duplicate, read-your-writes, monotonic reads), 1 when one
# failed (or, with -strict, a soft target), 2 when the run could not be made.
#
# The etcd members are Debian's etcd-server (etcd 3.4), installed with
# apt-get when there is no etcd on the PATH; ETCD=/path/to/etcd picks
# another. ENERGYLABELD=/path/to/energylabeld runs a binary already built
# instead of building ./cmd/energylabeld.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

short=() strict=() dir=""
for a in "$@"; do
	case "$a" in
	-short | --short) short=(-short) ;;
	-strict | --strict) strict=(-strict) ;;
	-h | -help | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	-*)
		echo "usage: scripts/chaos.sh [-short] [-strict] [DIR]" >&2
		exit 2
		;;
	*) dir=$a ;;
	esac
done

if [ "$(id -u)" != 0 ]; then
	echo "scripts/chaos.sh: needs root, for network namespaces (ip netns)" >&2
	exit 2
fi
for tool in ip go; do
	command -v "$tool" >/dev/null || {
		echo "scripts/chaos.sh: $tool is missing" >&2
		exit 2
	}
done

ETCD=${ETCD:-$(command -v etcd || true)}
if [ -z "$ETCD" ]; then
	echo "--- no etcd on the PATH: installing Debian's etcd-server"
	apt-get install -y etcd-server >/dev/null 2>&1 || {
		apt-get update >/dev/null
		apt-get install -y etcd-server >/dev/null
	}
	ETCD=$(command -v etcd)
fi

if [ -z "$dir" ]; then
	dir="$(mktemp -d "${TMPDIR:-/tmp}/energylabel-chaos.XXXXXX")"
fi
mkdir -p "$dir/bin"
dir="$(cd "$dir" && pwd)"
echo "--- chaos run in $dir"

# elchaos removes what it made; this trap is the backstop for when it
# cannot (killed, or crashed): it ends the process groups and removes the
# namespaces and the bridge that elchaos listed in $dir/state, and nothing
# else. A group is ended only while its leader is still one of ours.
cleanup() {
	local rc=$?
	trap - INT TERM EXIT
	if [ -n "${chaos_pid:-}" ] && kill -0 "$chaos_pid" 2>/dev/null; then
		kill -TERM "$chaos_pid" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$chaos_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$chaos_pid" 2>/dev/null || true
	fi
	if [ -f "$dir/state" ] && ! grep -qx clean "$dir/state"; then
		echo "--- cleaning up what elchaos left"
		while read -r what name _; do
			case "$what" in
			pgid)
				if [ -r "/proc/$name/cmdline" ] && tr '\0' ' ' <"/proc/$name/cmdline" | grep -q -e "$ETCD" -e "$dir/bin/energylabeld" -e "${ENERGYLABELD:-$dir/bin/energylabeld}"; then
					kill -KILL -- "-$name" 2>/dev/null || true
				fi
				;;
			esac
		done <"$dir/state"
		while read -r what name _; do
			case "$what" in
			netns) ip netns del "$name" 2>/dev/null || true ;;
			esac
		done <"$dir/state"
		while read -r what name _; do
			case "$what" in
			link) ip link del "$name" 2>/dev/null || true ;;
			esac
		done <"$dir/state"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${ENERGYLABELD:-}" ]; then
	eld=$ENERGYLABELD
	echo "--- using $eld"
else
	echo "--- building energylabeld and elchaos into $dir/bin"
	go build -o "$dir/bin/energylabeld" ./cmd/energylabeld
	eld="$dir/bin/energylabeld"
fi
go build -o "$dir/bin/elchaos" ./cmd/elchaos

: >"$dir/state"
set +e
"$dir/bin/elchaos" -etcd "$ETCD" -energylabeld "$eld" -dir "$dir" "${short[@]}" "${strict[@]}" &
chaos_pid=$!
wait "$chaos_pid"
rc=$?
set -e
chaos_pid=""
[ -f "$dir/report.md" ] && echo "--- report: $dir/report.md"
exit "$rc"
