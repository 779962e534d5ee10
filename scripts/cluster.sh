#!/usr/bin/env bash
# Starts a local energylabel cluster in one command: three etcd members and
# two energylabeld replicas, A and B, on free loopback ports; prints how to
# reach them; stops everything on Ctrl-C (or SIGTERM).
#
#   scripts/cluster.sh [DIR]
#
# DIR keeps the members' data, every log and the binaries (default: a
# temporary directory, removed at the end). The etcd members are Debian's
# etcd-server (etcd 3.4), installed with apt-get when there is no etcd on
# the PATH; ETCD=/path/to/etcd picks another build (3.4 or later).
# Environment: ENERGYLABEL_ADMIN_TOKEN (default: a random one, printed).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

ETCD=${ETCD:-$(command -v etcd || true)}
if [ -z "$ETCD" ]; then
	echo "--- no etcd on the PATH: installing Debian's etcd-server"
	apt-get install -y etcd-server >/dev/null
	ETCD=$(command -v etcd)
fi

if [ $# -gt 0 ]; then
	work=$1
	keep=1
	mkdir -p "$work"
else
	work="$(mktemp -d "${TMPDIR:-/tmp}/energylabel-cluster.XXXXXX")"
	keep=0
fi
work="$(cd "$work" && pwd)"
pids=()
cleanup() {
	trap - INT TERM EXIT
	echo
	echo "--- stopping"
	# Replicas first, then the members, each gracefully.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
	if [ "$keep" = 0 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "--- building energylabeld and energylabel into $work/bin"
go build -o "$work/bin/energylabeld" ./cmd/energylabeld
go build -o "$work/bin/energylabel" ./cmd/energylabel

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null && ! grep -qw "$p" "$work/ports" 2>/dev/null; then
			echo "$p" >>"$work/ports"
			echo "$p"
			return
		fi
	done
}
: >"$work/ports"

# The three members: client and peer ports, and the initial cluster.
names=(m1 m2 m3)
declare -A client peer
initial=""
for n in "${names[@]}"; do
	client[$n]=$(free_port)
	peer[$n]=$(free_port)
	initial+="${initial:+,}$n=http://127.0.0.1:${peer[$n]}"
done
endpoints=""
for n in "${names[@]}"; do endpoints+="${endpoints:+,}127.0.0.1:${client[$n]}"; done

echo "--- starting etcd ($("$ETCD" --version | sed -n 1p)): ${names[*]}"
declare -A etcd_pid
for n in "${names[@]}"; do
	mkdir -p "$work/$n"
	"$ETCD" --name "$n" --data-dir "$work/$n/data" \
		--listen-client-urls "http://127.0.0.1:${client[$n]}" --advertise-client-urls "http://127.0.0.1:${client[$n]}" \
		--listen-peer-urls "http://127.0.0.1:${peer[$n]}" --initial-advertise-peer-urls "http://127.0.0.1:${peer[$n]}" \
		--initial-cluster "$initial" --initial-cluster-token energylabel-local --initial-cluster-state new \
		--logger zap --log-outputs "$work/$n/etcd.log" >>"$work/$n/etcd.out" 2>&1 &
	etcd_pid[$n]=$!
	pids+=("$!")
done
for n in "${names[@]}"; do
	for _ in $(seq 100); do
		if curl -fs "http://127.0.0.1:${client[$n]}/health" | grep -q '"health":"true"'; then continue 2; fi
		sleep 0.1
	done
	echo "etcd member $n is not healthy after 10s; its log: $work/$n/etcd.log" >&2
	exit 1
done

if [ -z "${ENERGYLABEL_ADMIN_TOKEN:-}" ]; then
	ENERGYLABEL_ADMIN_TOKEN="local-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
fi
export ENERGYLABEL_ADMIN_TOKEN

echo "--- starting replicas A and B"
declare -A grpc http cmdline replica_pid
for r in A B; do
	grpc[$r]=127.0.0.1:$(free_port)
	http[$r]=127.0.0.1:$(free_port)
	cmdline[$r]="$work/bin/energylabeld -etcd $endpoints -grpc ${grpc[$r]} -http ${http[$r]}"
	${cmdline[$r]} 2>>"$work/replica-$r.log" &
	replica_pid[$r]=$!
	pids+=("$!")
done
for r in A B; do
	for _ in $(seq 100); do
		if curl -fs "http://${http[$r]}/healthz" >/dev/null; then continue 2; fi
		sleep 0.1
	done
	echo "replica $r is not healthy after 10s; its log: $work/replica-$r.log" >&2
	exit 1
done

cat <<EOF

energylabel is running on a local cluster (work directory $work):

$(for n in "${names[@]}"; do printf '  etcd %-9s 127.0.0.1:%s   (pid %s, log %s)\n' "$n" "${client[$n]}" "${etcd_pid[$n]}" "$work/$n/etcd.log"; done)
  replica A      gRPC ${grpc[A]}   HTTP http://${http[A]}   (pid ${replica_pid[A]}, log $work/replica-A.log)
  replica B      gRPC ${grpc[B]}   HTTP http://${http[B]}   (pid ${replica_pid[B]}, log $work/replica-B.log)
  admin token    $ENERGYLABEL_ADMIN_TOKEN

Try:
  export ENERGYLABEL_TOKEN=$ENERGYLABEL_ADMIN_TOKEN
  $work/bin/energylabel -addr ${grpc[A]} import aienergyscore testdata/aienergyscore-2025-02
  $work/bin/energylabel -addr ${grpc[A]} admin release create aies-2025-02
  # in another terminal, B's watch shows what A accepts:
  $work/bin/energylabel -addr ${grpc[B]} watch
  $work/bin/energylabel -addr ${grpc[B]} list -task asr
  curl -sI 'http://${http[B]}/badge/openai/whisper-large-v3.svg?task=asr' | grep -i staleness
  # lose a member: writes go on; lose two: B's /healthz says 503, reads go on, writes are Unavailable
  kill -9 ${etcd_pid[m1]}
  curl -si http://${http[B]}/healthz
  # lose replica A, and start it again:
  kill -9 ${replica_pid[A]}
  ENERGYLABEL_ADMIN_TOKEN=$ENERGYLABEL_ADMIN_TOKEN ${cmdline[A]}

Ctrl-C stops everything.
EOF
wait
