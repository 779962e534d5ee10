#!/usr/bin/env bash
# Checks `energylabel measure` on real hardware in one command: on a machine
# with an NVIDIA GPU, its driver, and Python with PyTorch, it measures a
# matrix-multiply loop (a fixed number of iterations) with energylabel
# measure, and prints the result beside nvidia-smi's readings of the same
# run (its power samples, every 100 ms, integrated over the busy stretch), so
# the two can be compared.
#
#   scripts/gpu-check.sh [ITERATIONS] [GPU]     default 3000 iterations, GPU 0
#
# Environment: ENERGYLABEL (the CLI, default: built from this checkout with
# cgo), PYTHON (default python3), SIZE (the matrices' side, default 8192).
# It writes into a temporary directory and leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."
iters=${1:-3000}
gpu=${2:-0}
size=${SIZE:-8192}
python=${PYTHON:-python3}

command -v nvidia-smi >/dev/null || { echo "gpu-check: nvidia-smi not found: this needs an NVIDIA GPU and its driver" >&2; exit 1; }
"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' ||
	{ echo "gpu-check: $python has no PyTorch with CUDA" >&2; exit 1; }

tmp=$(mktemp -d)
smi_pid=
cleanup() {
	[ -n "$smi_pid" ] && kill "$smi_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

el=${ENERGYLABEL:-}
if [ -z "$el" ]; then
	CGO_ENABLED=1 go build -o "$tmp/energylabel" ./cmd/energylabel
	el=$tmp/energylabel
fi

cat >"$tmp/matmul.py" <<PY
import json, sys, time, torch
n, size, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
a = torch.randn(size, size, device="cuda", dtype=torch.float16)
b = torch.randn(size, size, device="cuda", dtype=torch.float16)
torch.cuda.synchronize()
for _ in range(n):
    c = a @ b
torch.cuda.synchronize()
# one "query" per multiplication, so that the result is a valid submission
json.dump({"model": "gpu-check/matmul-fp16", "task": "text-classification", "queries": n,
           "precision": "fp16", "batch_size": 1}, open(out, "w"))
PY

# nvidia-smi's own view of the same GPU, every 100 ms, while the run lasts.
nvidia-smi -i "$gpu" --query-gpu=timestamp,power.draw --format=csv,noheader,nounits -lms 100 >"$tmp/smi.csv" &
smi_pid=$!
sleep 1

"$el" measure -gpus "$gpu" -interval 100ms -idle 2s -o "$tmp/result.json" -counts "$tmp/counts.json" \
	-- "$python" "$tmp/matmul.py" "$iters" "$size" "$tmp/counts.json"

sleep 1
kill "$smi_pid" 2>/dev/null || true
smi_pid=

"$python" - "$tmp/result.json" "$tmp/smi.csv" <<'PY'
import json, sys, datetime
r = json.load(open(sys.argv[1]))
m = r["measurement"]
wh, s = r["gpu_energy_wh"], r["duration_seconds"]
d = m["devices"][0]
print(f"energylabel measure: {d['name']} ({d['uuid']}), driver {m.get('driver_version','?')}, CUDA {m.get('cuda_version','?')}")
print(f"  energy {wh:.6g} Wh ({wh*3600:.6g} J) in {s:.4g} s from the {d['energy_source']}: {wh*3600/s:.4g} W average")
print(f"  trace {len(m['trace'])} points; idle {m.get('idle_watts', 0):.4g} W (not subtracted)")
rows = []
for line in open(sys.argv[2]):
    f = [x.strip() for x in line.split(",")]
    try:
        t = datetime.datetime.strptime(f[0], "%Y/%m/%d %H:%M:%S.%f").timestamp()
        rows.append((t, float(f[1])))
    except (ValueError, IndexError):
        pass
# nvidia-smi's samples above idle + 10 % mark the run; its power integrated over them
idle = m.get("idle_watts") or min(p for _, p in rows)
busy = [(t, p) for t, p in rows if p > idle * 1.1]
if len(busy) >= 2:
    j = sum(p * (t1 - t0) for (t0, _), (t1, p) in zip(busy, busy[1:]))
    print(f"nvidia-smi: {len(busy)} busy samples over {busy[-1][0]-busy[0][0]:.4g} s, "
          f"{sum(p for _, p in busy)/len(busy):.4g} W mean, power integral {j:.6g} J"
          f" ({(j/(wh*3600)-1)*100:+.1f} % against energylabel's counter)")
else:
    print("nvidia-smi: too few samples above idle to compare; raise ITERATIONS")
PY
echo "check it as the server will: $el submit $tmp/result.json (copy it out first; this directory is removed)"
