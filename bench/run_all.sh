#!/usr/bin/env bash
# Re-measure every figure of docs/benchmarks.md, one bench after another, on a quiet machine.
# Each bench prints its table and one JSON line; the whole output goes to artifacts/bench/NAME.log.
#   bash bench/run_all.sh            # all of them (about an hour on 2 cores; mutation_score needs .[dev])
#   bash bench/run_all.sh toy2d      # the ones whose name contains a word
# The GPU benches (bench_gpu, bench_gpu_step) and a GPU's other checks: bash bench/gpu_session.sh, on a GPU machine.
set -uo pipefail
cd "$(dirname "$0")/.."
out=artifacts/bench
mkdir -p "$out"
benches=(bench_toy2d bench_train_speed bench_switch bench_time_to_digits bench_minute bench_step_flops bench_train_page bench_latent bench_style
         bench_cold_start bench_concurrency bench_classroom bench_lone_after_class bench_ddp bench_image_models bench_vae_vs_gan bench_page_race bench_slides
         mutation_score)  # mutation testing of the engine core, over an hour (docs/testing.md)
for b in "${benches[@]}"; do
  [ $# -gt 0 ] && [[ "$b" != *"$1"* ]] && continue
  echo "== $b ($(date +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))"
  python "bench/$b.py" > "$out/$b.log" 2>&1
  echo "   exit $?; $(grep -v '^{' "$out/$b.log" | tail -n 4 | tr '\n' ' ' | cut -c1-300)"
done
