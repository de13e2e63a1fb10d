#!/usr/bin/env bash
# Batch inference images/s on the CPU: `medtrain infer` vs ONNX Runtime on the
# exported model.onnx vs PyTorch eager (torchvision resnet18 with the same
# weights), median of REPS runs each, and the ratios.
#   scripts/bench/infer_vs_ort.sh [BUILD_DIR] [REPS] [COUNT]
# Trains the smoke recipe for 2 steps on COUNT synthetic 64x64 slices, exports
# it, and times the three on the same inputs. ONNX Runtime and PyTorch time
# the forward pass on the batch that `medtrain infer` preprocessed (dumped with
# its --dump-inputs); `medtrain infer` is timed end to end (process start,
# bundle load, DICOM decode + preprocessing on its worker threads, forward,
# CSV), so its number is a lower bound of its forward throughput.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
REPS=${2:-3}
COUNT=${3:-256}
PY=${MEDTRAIN_PYTHON:-$ROOT/.venv/bin/python}
BIN="$BUILD/medtrain"
[ -x "$BIN" ] || { echo "missing $BIN: cmake --build $BUILD --target medtrain" >&2; exit 2; }
THREADS=${MEDTRAIN_BENCH_THREADS:-$(nproc)}
export OMP_NUM_THREADS=$THREADS

DIR="$BUILD/bench_infer"
rm -rf "$DIR" && mkdir -p "$DIR"
"$BIN" demo-data --out "$DIR/data" --count "$COUNT" --patients 16 --size 64 --seed 1 >/dev/null
"$BIN" train -c "$ROOT/configs/smoke.yaml" --set "data.root=$DIR/data" --set "data.manifest=$DIR/data/manifest.csv" \
  --set "run.output_dir=$DIR/runs" --set run.max_steps=2 --set run.device=cpu >/dev/null
"$BIN" export --checkpoint "$DIR/runs/smoke/ckpt/latest" --out "$DIR/bundle" >/dev/null

times=()
for _ in $(seq "$REPS"); do
  start=$(date +%s.%N)
  "$BIN" infer --model "$DIR/bundle" --in "$DIR/data/images" --out "$DIR/pred.csv" --device cpu \
    --batch-size 64 --workers 2 --dump-inputs "$DIR/inputs.npy" >/dev/null
  end=$(date +%s.%N)
  times+=("$(echo "$end - $start" | bc -l)")
done

"$PY" - "$DIR" "$THREADS" "$REPS" "${times[@]}" <<'PYEOF'
import statistics, sys, time
import numpy as np, onnxruntime as ort, torch, torchvision
from safetensors.numpy import load_file
d, threads, reps, infer_times = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), [float(t) for t in sys.argv[4:]]
x = np.load(f"{d}/inputs.npy")
n = len(x)
opts = ort.SessionOptions()
opts.intra_op_num_threads = threads
sess = ort.InferenceSession(f"{d}/bundle/model.onnx", opts, providers=["CPUExecutionProvider"])
torch.set_num_threads(threads)
net = torchvision.models.resnet18(num_classes=2)
net.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
net.load_state_dict({k: torch.from_numpy(v) for k, v in load_file(f"{d}/bundle/model.safetensors").items()})
net.eval()
xt = torch.from_numpy(x)
def timed(f):
    f()  # warm-up
    out = []
    for _ in range(reps):
        t = time.perf_counter(); f(); out.append(time.perf_counter() - t)
    return statistics.median(out)
def eager():
    with torch.no_grad():
        for i in range(0, n, 64): net(xt[i:i + 64])
def onnx():
    for i in range(0, n, 64): sess.run(["logits"], {"input": x[i:i + 64]})
rates = {"medtrain infer (end to end)": n / statistics.median(infer_times),
         "onnxruntime (forward)": n / timed(onnx), "pytorch eager (forward)": n / timed(eager)}
print(f"{n} images {x.shape[1:]}, batch 64, {threads} threads, median of {reps}")
base = rates["medtrain infer (end to end)"]
for k, v in rates.items():
    print(f"{k:30} {v:10.1f} images/s   medtrain/this {base / v:5.2f}")
PYEOF
