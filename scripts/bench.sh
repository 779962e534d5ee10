#!/usr/bin/env bash
# Benchmarks energylabel against the performance targets (issue 6): starts a
# real energylabeld, bulk-loads N synthetic results, runs ghz and elbench's
# HTTP load against it, and writes the table of targets to BENCHMARKS.md.
#
#   scripts/bench.sh [N]          N results, default 1000000 (a few minutes)
#   scripts/bench.sh scale [N]    the targets of a large registry, N results,
#                                 default 10000000 (10 to 30 minutes, most
#                                 of it the bulk load; 8 GB in TMPDIR)
#   scripts/bench.sh flood [N]    the collateral cost of floods, on N results
#                                 (default 300000; see scripts/flood.sh)
#
# A full run ends with the etcd run: three local etcd members (Debian's
# etcd-server, as scripts/cluster.sh starts them), Append against a raw etcd
# transaction put, and a replica on etcd against a bbolt server, each
# holding BENCH_ETCD_N results. It rewrites BENCHMARKS.md but for the scale
# and collateral sections, which it keeps as they are.
#
# A scale run loads N results into one server (bulk load rate, and the
# file's bytes per result), restarts it three times (start-up, the best of
# three), runs GetRating and ListRatings against it and against a server of
# 1,000 results in ABBA order, reads its memory (RssAnon beside VmRSS), and
# writes its own section of BENCHMARKS.md, between the scale markers,
# leaving the rest of the file as it is.
#
# Environment: BENCH_DURATION (each load run, default 10s), BENCH_OUT (the
# table, default BENCHMARKS.md), BENCH_STORE_TIME (go test -benchtime of the
# durable-write benchmarks, default 3s), BENCH_ETCD_N (default 100000, or
# N when smaller; 0 skips the etcd run), ETCD (the etcd binary, default
# etcd on the PATH).
# Needs Go; installs the pinned ghz into ./bin.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
if [ "${1:-}" = flood ]; then
	shift
	exec scripts/flood.sh "$@"
fi
SCALE=0
if [ "${1:-}" = scale ]; then
	SCALE=1
	shift
	N=${1:-10000000}
	BENCH_ETCD_N=0 # nor durable writes, nor the HTTP and floor runs
else
	N=${1:-1000000}
fi
SMALL=1000
DUR=${BENCH_DURATION:-10s}
OUT=${BENCH_OUT:-BENCHMARKS.md}
STORE_TIME=${BENCH_STORE_TIME:-3s}
C=16
SEED=1
ETCD_N=${BENCH_ETCD_N:-$((N < 100000 ? N : 100000))}
ETCD=${ETCD:-$(command -v etcd || true)}
if [ "$ETCD_N" -gt 0 ] && [ -z "$ETCD" ]; then
	echo "--- no etcd on the PATH: installing Debian's etcd-server"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
	ETCD=$(command -v etcd)
fi

export GOBIN="$PWD/bin"
echo "--- install ghz v0.93.0 and build"
go install github.com/bojand/ghz/cmd/ghz@v0.93.0
GHZ="$GOBIN/ghz"
work="$(mktemp -d "${TMPDIR:-/tmp}/energylabel-bench.XXXXXX")"
pid=""
rpid=""
spid=""
etcd_pids=()
cleanup() {
	for p in "$pid" "$rpid" "$spid" "${etcd_pids[@]}"; do
		if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; fi
	done
	for p in "${etcd_pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/energylabeld" ./cmd/energylabeld
go build -o "$work/elbench" ./cmd/elbench
EL="$work/elbench"
results="$work/results"
mkdir -p "$results/small" "$results/large"
export ENERGYLABEL_ADMIN_TOKEN="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
}
GRPC="127.0.0.1:$(free_port)"
HTTP="127.0.0.1:$(free_port)"

# start DATA_DIR RESULT_DIR: starts energylabeld and times it to healthy.
start() {
	local since
	since=$(date +%s%N)
	"$work/energylabeld" -data "$1" -grpc "$GRPC" -http "$HTTP" -log-level warn -submit-rate 0 -stream-timeout 2h 2>>"$work/daemon.log" &
	pid=$!
	"$EL" wait -http "$HTTP" -since "$since" >"$2/startup.json"
}

stop() {
	kill -TERM "$pid"
	wait "$pid" || true
	pid=""
}

# rss is the server's memory, in KiB: VmRSS is its own (RssAnon) and the
# pages of the mapped database file it has read (RssFile).
rss() {
	awk '/^VmRSS|^VmHWM|^RssAnon|^RssFile/ { sub(":", "", $1); v[$1] = $2 }
		END { printf "{\"VmRSS\": %d, \"VmHWM\": %d, \"RssAnon\": %d, \"RssFile\": %d}\n", v["VmRSS"], v["VmHWM"], v["RssAnon"], v["RssFile"] }' "/proc/$pid/status"
}

# cputicks is energylabeld's user and system CPU time so far, in clock ticks.
cputicks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }

# ghz OUT ARGS... runs ghz and keeps beside OUT the CPU time energylabeld
# spent during the run (OUT.cpu.json), which ghz's own work on the same
# cores does not blur.
ghz() {
	local out=$1 before after
	shift
	before=$(cputicks)
	"$GHZ" --insecure -O json -o "$out" "$@" "${TARGET:-$GRPC}"
	after=$(cputicks)
	echo "{\"ticks\": $((after - before)), \"hz\": $(getconf CLK_TCK)}" >"${out%.json}.cpu.json"
	"$EL" summary "$out"
}

http() {
	local out=$1
	shift
	"$EL" http -addr "$HTTP" -c "$C" -d "$DUR" "$@" >"$out"
	"$EL" summary "$out"
}

getrating() { ghz "$1" --call energylabel.v1.RatingService/GetRating -c "$C" -z "$DUR" -D "$2/getrating.json"; }
list() { ghz "$1" --call energylabel.v1.RatingService/ListRatings -c "$C" -z "$DUR" -D "$2/list.json"; }
health() { ghz "$1" --call grpc.health.v1.Health/Check -c "$C" -z "$DUR" -d '{}'; }
submit() {
	ghz "$1" --call energylabel.v1.RatingService/SubmitResult -c 1 -n 300 \
		-m "{\"authorization\": \"Bearer $ENERGYLABEL_ADMIN_TOKEN\"}" \
		-d '{"result": {"model": "bench/new-{{.RequestNumber}}", "task": "text-classification",
			"hardware": {"accelerator": "H100", "count": 1}, "queries": 1000, "gpu_energy_wh": 0.8,
			"duration_seconds": 41.5}}'
}

# load SIZE RESULT_DIR: a fresh server loaded with SIZE results, then
# restarted so that start-up rebuilds the index from the file.
load() {
	local data="$work/data-$1"
	start "$data" "$2"
	echo "--- $1 results: bulk load"
	"$EL" load -addr "$GRPC" -token "$ENERGYLABEL_ADMIN_TOKEN" -n "$1" -seed "$SEED" | tee "$2/load.json"
	rss >"$2/load-rss.json"
	stop
	# The file's size, and the bytes the filesystem allocated for it.
	local db="$data/energylabel.db"
	echo "{\"bytes\": $(stat -c %s "$db"), \"allocated\": $(($(stat -c %b "$db") * $(stat -c %B "$db")))}" >"$2/disk.json"
	start "$data" "$2"
	echo "  start-up: $(cat "$2/startup.json")"
	"$EL" prepare -addr "$GRPC" -http "$HTTP" -n "$1" -seed "$SEED" -out "$2" | tee "$2/prepare.json"
}

# splice SECTION NAME: puts the file SECTION, which holds a section between
# NAME's markers, into OUT in place of the one there, else before the
# collateral section, else at the end.
splice() {
	if grep -q "<!-- $2:start -->" "$OUT" 2>/dev/null; then
		awk -v f="$1" -v start="<!-- $2:start -->" -v end="<!-- $2:end -->" '
			$0 == start { while ((getline l < f) > 0) print l; skip = 1; next }
			$0 == end { skip = 0; next }
			!skip' "$OUT" >"$work/spliced.md"
	elif grep -q '<!-- collateral:start -->' "$OUT" 2>/dev/null; then
		awk -v f="$1" '
			$0 == "<!-- collateral:start -->" { while ((getline l < f) > 0) print l }
			{ print }' "$OUT" >"$work/spliced.md"
	else
		{ cat "$OUT" 2>/dev/null || true; cat "$1"; } >"$work/spliced.md"
	fi
	cp "$work/spliced.md" "$OUT"
}

# params writes the run's parameters for elbench report.
params() {
	local commit fs
	commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	if [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="$commit (with local changes)"; fi
	fs="$(df -T "$work" | awk 'NR == 2 { print $2 }')"
	cat >"$results/params.json" <<EOF
{"n": $N, "small": $SMALL, "duration": "$DUR", "concurrency": $C, "seed": $SEED, "etcd_n": $ETCD_N, "etcd": "${etcd_version:-}",
 "go_version": "$(go version)", "filesystem": "$fs", "commit": "$commit"}
EOF
}

if [ "$SCALE" = 1 ]; then
	# The small server stays up, on ports of its own, so that both sizes
	# run in ABBA order (small, large, large, small).
	large_grpc=$GRPC large_http=$HTTP
	GRPC="127.0.0.1:$(free_port)" HTTP="127.0.0.1:$(free_port)"
	small_grpc=$GRPC
	load "$SMALL" "$results/small"
	spid=$pid pid=""
	GRPC=$large_grpc HTTP=$large_http
	load "$N" "$results/large"
	s="$results/small"
	l="$results/large"
	# Start-up is the best of three: other work on the machine only slows
	# one down.
	cp "$l/startup.json" "$l/startup-1.json"
	for i in 2 3; do
		stop
		start "$work/data-$N" "$l"
		cp "$l/startup.json" "$l/startup-$i.json"
		echo "  start-up: $(cat "$l/startup.json")"
	done
	echo "--- $SMALL and $N results: load runs (ABBA)"
	for run in getrating list; do
		TARGET=$small_grpc "$run" "$s/$run-1.json" "$s"
		"$run" "$l/$run-1.json" "$l"
		"$run" "$l/$run-2.json" "$l"
		TARGET=$small_grpc "$run" "$s/$run-2.json" "$s"
	done
	rss >"$l/rss.json"
	echo "  memory: $(cat "$l/rss.json")"
	stop
	kill -TERM "$spid"
	wait "$spid" || true
	spid=""
	params
	"$EL" report -scale -dir "$results" >"$work/scale.md"
	splice "$work/scale.md" scale
	echo
	cat "$work/scale.md"
	exit 0
fi

echo "--- durable writes (store benchmarks)"
for _ in 1 2; do
	go test ./storage/boltdb -run '^$' -bench '^(BenchmarkSubmitDurable|BenchmarkBoltBatchBaseline)$' -benchtime "$STORE_TIME" | tee -a "$results/store-bench.txt"
done

load "$SMALL" "$results/small"
echo "--- $SMALL results: load runs"
s="$results/small"
getrating "$s/getrating-1.json" "$s"
list "$s/list-1.json" "$s"
getrating "$s/getrating-2.json" "$s"
list "$s/list-2.json" "$s"
submit "$s/submit.json"
stop

load "$N" "$results/large"
echo "--- $N results: load runs (ABBA: baseline, measure, measure, baseline)"
l="$results/large"
health "$l/health-1.json"
getrating "$l/getrating-1.json" "$l"
getrating "$l/getrating-2.json" "$l"
health "$l/health-2.json"
list "$l/list-1.json" "$l"
list "$l/list-2.json" "$l"
# The floor of target 1's method: the same runs against a bare gRPC server
# that answers GetRating with canned copies of the real answers.
FLOOR="127.0.0.1:$(free_port)"
"$EL" floor -addr "$GRPC" -listen "$FLOOR" -requests "$l/getrating.json" >/dev/null &
floor_pid=$!
for _ in $(seq 600); do
	if (echo >"/dev/tcp/${FLOOR%:*}/${FLOOR#*:}") 2>/dev/null || ! kill -0 "$floor_pid" 2>/dev/null; then break; fi
	sleep 0.05
done
TARGET=$FLOOR health "$l/floor-health-1.json"
TARGET=$FLOOR getrating "$l/floor-getrating-1.json" "$l"
TARGET=$FLOOR getrating "$l/floor-getrating-2.json" "$l"
TARGET=$FLOOR health "$l/floor-health-2.json"
kill "$floor_pid"
wait "$floor_pid" 2>/dev/null || true
http "$l/healthz-1.json" -path /healthz
http "$l/badge-1.json" -urls "$l/badges.tsv"
http "$l/notmodified-1.json" -urls "$l/badges.tsv" -etags
http "$l/notmodified-2.json" -urls "$l/badges.tsv" -etags
http "$l/badge-2.json" -urls "$l/badges.tsv"
http "$l/healthz-2.json" -path /healthz
submit "$l/submit.json"
rss >"$l/rss.json"
stop

etcd_version=""
if [ "$ETCD_N" -gt 0 ]; then
	echo "--- etcd: three local members"
	initial=""
	declare -A eclient epeer
	for n in m1 m2 m3; do
		eclient[$n]=$(free_port)
		epeer[$n]=$(free_port)
		initial+="${initial:+,}$n=http://127.0.0.1:${epeer[$n]}"
	done
	endpoints=""
	for n in m1 m2 m3; do
		mkdir -p "$work/etcd/$n"
		"$ETCD" --name "$n" --data-dir "$work/etcd/$n/data" \
			--listen-client-urls "http://127.0.0.1:${eclient[$n]}" --advertise-client-urls "http://127.0.0.1:${eclient[$n]}" \
			--listen-peer-urls "http://127.0.0.1:${epeer[$n]}" --initial-advertise-peer-urls "http://127.0.0.1:${epeer[$n]}" \
			--initial-cluster "$initial" --initial-cluster-token energylabel-bench --initial-cluster-state new \
			--logger zap --log-outputs "$work/etcd/$n/etcd.log" >>"$work/etcd/$n/etcd.out" 2>&1 &
		etcd_pids+=("$!")
		endpoints+="${endpoints:+,}127.0.0.1:${eclient[$n]}"
	done
	for n in m1 m2 m3; do
		for _ in $(seq 100); do
			if curl -fs "http://127.0.0.1:${eclient[$n]}/health" | grep -q '"health":"true"'; then continue 2; fi
			sleep 0.1
		done
		echo "etcd member $n is not healthy after 10s; its log: $work/etcd/$n/etcd.log" >&2
		exit 1
	done
	etcd_version="$("$ETCD" --version | sed -n '1s/.*Version: //p')"
	e="$results/etcd"
	mkdir -p "$e/bbolt" "$e/replica"

	echo "--- etcd durable writes (storage benchmarks against the members)"
	for _ in 1 2; do
		ENERGYLABEL_TEST_ETCD="127.0.0.1:${eclient[m1]}" go test ./storage/etcdstore -run '^$' \
			-bench '^(BenchmarkAppendDurable|BenchmarkRawTxnPutBaseline)$' -benchtime "$STORE_TIME" | grep -v '^{' | tee -a "$e/store-bench.txt"
	done

	echo "--- $ETCD_N results on bbolt"
	load "$ETCD_N" "$e/bbolt" # leaves the bbolt server running

	echo "--- $ETCD_N results on etcd, through a replica"
	RGRPC="127.0.0.1:$(free_port)"
	RHTTP="127.0.0.1:$(free_port)"
	replica() {
		local since
		since=$(date +%s%N)
		"$work/energylabeld" -etcd "$endpoints" -etcd-prefix /bench/ -grpc "$RGRPC" -http "$RHTTP" -log-level warn -submit-rate 0 2>>"$work/replica.log" &
		rpid=$!
		"$EL" wait -http "$RHTTP" -since "$since" >"$1"
	}
	replica "$e/replica/startup-empty.json"
	"$EL" load -addr "$RGRPC" -token "$ENERGYLABEL_ADMIN_TOKEN" -n "$ETCD_N" -seed "$SEED" | tee "$e/replica/load.json"
	kill -TERM "$rpid"
	wait "$rpid" || true
	replica "$e/replica/startup.json"
	echo "  replica start-up: $(cat "$e/replica/startup.json")"

	echo "--- GetRating, bbolt server and replica (ABBA)"
	TARGET=$GRPC getrating "$e/getrating-bbolt-1.json" "$e/bbolt"
	TARGET=$RGRPC getrating "$e/getrating-replica-1.json" "$e/bbolt"
	TARGET=$RGRPC getrating "$e/getrating-replica-2.json" "$e/bbolt"
	TARGET=$GRPC getrating "$e/getrating-bbolt-2.json" "$e/bbolt"
	kill -TERM "$rpid"
	wait "$rpid" || true
	rpid=""
	stop
fi

params
"$EL" report -dir "$results" >"$work/report.md"
# The scale section (scripts/bench.sh scale) and the collateral one
# (scripts/flood.sh) stay.
if [ -f "$OUT" ]; then
	sed -n '/<!-- scale:start -->/,/<!-- scale:end -->/p' "$OUT" >>"$work/report.md"
	sed -n '/<!-- collateral:start -->/,/<!-- collateral:end -->/p' "$OUT" >>"$work/report.md"
fi
cp "$work/report.md" "$OUT"
echo
cat "$OUT"
