#!/usr/bin/env bash
# The collateral cost of floods (issue 17): a real energylabeld on a fresh
# bbolt file loaded with N synthetic results; a well-behaved badge reader
# on 127.0.0.2 reads at a fixed rate, alone and then while another address
# (127.0.0.3), pinned to one core, floods the server with one kind of
# costly request at a stated offered rate. Each flood's reader p99 is
# compared with the quiet run just before it, and the server's memory and
# log bytes are recorded. The table goes into BENCHMARKS.md, between its
# collateral markers.
#
#   scripts/bench.sh flood [N]    N results, default 300000
#
# Environment: FLOOD_DURATION (each run, default 10s), FLOOD_KINDS (which
# floods, default all), BENCH_OUT (default BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

N=${1:-300000}
DUR=${FLOOD_DURATION:-10s}
OUT=${BENCH_OUT:-BENCHMARKS.md}
KINDS=${FLOOD_KINDS:-"watch-hold watch-replay import import-watched history task-page search label-png badge-hardware unknown-model"}
READ_RATE=100
declare -A RATE=([watch-hold]=0 [import]=0 [import-watched]=0 [watch-replay]=20 [history]=200 [task-page]=200 [search]=200 [label-png]=200 [badge-hardware]=2000 [unknown-model]=5000)
declare -A WORKERS=([watch-hold]=1 [import]=1 [import-watched]=1 [watch-replay]=12 [history]=8 [task-page]=8 [search]=8 [label-png]=8 [badge-hardware]=16 [unknown-model]=16)

work="$(mktemp -d "${TMPDIR:-/tmp}/energylabel-flood.XXXXXX")"
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/energylabeld" ./cmd/energylabeld
go build -o "$work/elbench" ./cmd/elbench
EL="$work/elbench"
res="$work/results"
mkdir -p "$res"
export ENERGYLABEL_ADMIN_TOKEN="flood-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
GRPC=127.0.0.1:$((20000 + RANDOM % 20000))
HTTP=127.0.0.1:$((40000 + RANDOM % 20000))
log="$work/daemon.log"

"$work/energylabeld" -data "$work/data" -grpc "$GRPC" -http "$HTTP" -log-level info -submit-rate 0 2>>"$log" &
pid=$!
"$EL" wait -http "$HTTP" >/dev/null
echo "--- $N results: bulk load"
"$EL" load -addr "$GRPC" -token "$ENERGYLABEL_ADMIN_TOKEN" -n "$N" | tee "$res/load.json"
"$EL" prepare -addr "$GRPC" -http "$HTTP" -n "$N" -out "$res" >/dev/null
awk '/^VmHWM/ { print "{\"load_hwm_kib\": " $2 "}" }' "/proc/$pid/status" >"$res/load-mem.json"

for k in $KINDS; do
	"$EL" flood -setup -kind "$k" -addr "$GRPC" -token "$ENERGYLABEL_ADMIN_TOKEN"
done

# The peak from here on is the floods': the bulk load's is recorded above.
echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || echo "--- cannot reset the peak RSS (not root?): peaks include the bulk load"

mem() { awk '/^VmRSS|^VmHWM/ { sub(":", "", $1); v[$1] = $2 } END { printf "{\"rss_kib\": %d, \"hwm_kib\": %d}\n", v["VmRSS"], v["VmHWM"] }' "/proc/$pid/status"; }
reader() { "$EL" reader -http "$HTTP" -from 127.0.0.2 -urls "$res/badges.tsv" -rate "$READ_RATE" -d "$DUR"; }

for k in $KINDS; do
	echo "--- $k: quiet, then flooded at ${RATE[$k]}/s"
	reader >"$res/quiet-$k.json"
	before=$(stat -c %s "$log")
	taskset -c 1 "$EL" flood -kind "$k" -addr "$GRPC" -http "$HTTP" -from 127.0.0.3 -rate "${RATE[$k]}" \
		-c "${WORKERS[$k]}" -d "$DUR" -n "$N" -token "$ENERGYLABEL_ADMIN_TOKEN" >"$res/flood-$k.json" &
	fpid=$!
	sleep 1 # the flood under way
	reader >"$res/reader-$k.json"
	mem >"$res/mem-$k.json"
	wait "$fpid"
	after=$(stat -c %s "$log")
	echo "{\"log_bytes\": $((after - before))}" >"$res/log-$k.json"
	cat "$res/quiet-$k.json" "$res/reader-$k.json" "$res/flood-$k.json" "$res/mem-$k.json"
done
kill -TERM "$pid"
wait "$pid" || true
pid=""
"$work/energylabeld" -check -data "$work/data" | tee "$res/check.txt"

"$EL" floodreport -dir "$res" -kinds "$KINDS" -n "$N" -d "$DUR" -read-rate "$READ_RATE" >"$work/collateral.md"
# Replace the collateral section of OUT, or append one.
if grep -q '<!-- collateral:start -->' "$OUT" 2>/dev/null; then
	awk -v f="$work/collateral.md" '
		/<!-- collateral:start -->/ { while ((getline l < f) > 0) print l; skip = 1; next }
		/<!-- collateral:end -->/ { skip = 0; next }
		!skip' "$OUT" >"$work/out.md"
	cp "$work/out.md" "$OUT"
else
	cat "$work/collateral.md" >>"$OUT"
fi
cat "$work/collateral.md"
