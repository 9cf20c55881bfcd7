"""The default model's training step against this CPU's bf16 matmul peak (issue 20).

    python bench/bench_step_flops.py [--seconds 10] [--model cdcgan]

The FLOPs of one training step are counted by torch.utils.flop_counter (matmuls and convolutions,
forward and backward); the step's speed is timed over `seconds` of training; the peak is the best of large bf16
matmuls (1024^3 to 4096^3) timed in the same run (fp32 on a CPU without native bf16, where the preset trains
in fp32 too).
Baseline in the same run: the same model in fp32 (the textbook's precision). Target: the preset's step
at >= 50% of the bf16 peak. Prints a table and one JSON line.

Then where the preset's step spends its time (torch.profiler over `--profile-steps` steps): matmuls,
convolutions, and everything else (optimizer, batch norm, activations, casts), each with its FLOP
rate, and the ceiling: the share of the peak the step would reach if everything that does no FLOPs
took no time at all. A ceiling under the target says that trimming overhead cannot reach it; the
FLOP-doing ops themselves would have to run faster.
"""
import argparse
import json
import time

import torch
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

from gan_core import registry
from gan_core.data import load_mnist, mnist_tensor
from gan_core.device import describe, fast_dtype, get_device
from gan_core.training import TrainConfig, Trainer

TARGET = 0.5


def peak_dtype() -> torch.dtype:
    """The dtype the presets train in here (bf16 where this CPU runs it natively, else fp32: Trainer's own
    choice), so the peak is the one the step could reach. Emulated bf16 on an AVX2 CPU runs a 4096^3
    matmul on one core for minutes: a peak no step is held to."""
    return fast_dtype(torch.device("cpu")) or torch.float32


def matmul_peak(n: int = 4096, seconds: float = 3.0, dtype: torch.dtype | None = None) -> float:
    """FLOP/s of an n x n x n matmul on this CPU in `dtype` (peak_dtype()): the best of repeated calls after a warm-up."""
    dtype = dtype or peak_dtype()
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best, stop = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < stop:
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best


PEAK_SIZES = (1024, 2048, 4096)


def measured_peak(sizes: tuple[int, ...] = PEAK_SIZES) -> tuple[float, str, int]:
    """(the best matmul_peak() of `sizes` in FLOP/s, the name of its dtype, the size that gave it), as both
    benches print it. A peak is the most this CPU gives: on a shared machine a 4096^3 fp32 matmul, its
    operands far beyond the cache, ran at 87 GFLOP/s while a 1024^3 one ran at 145 the same minute."""
    peak, n = max((matmul_peak(n, seconds=2.0), n) for n in sizes)
    return peak, str(peak_dtype()).removeprefix("torch."), n


def step_flops(t: Trainer) -> int:
    """FLOPs of one iteration of `t` (its snapshot excluded: one step past a snapshot)."""
    with FlopCounterMode(display=False) as counter:
        t.step(1)
    return counter.get_total_flops()


# The ops that do FLOPs, as FlopCounterMode names them ("aten.mm"; the profiler says "aten::mm")
KINDS = {"matmul": ("aten.mm", "aten.addmm", "aten.bmm"),
         "convolution": ("aten.convolution", "aten.convolution_backward")}


def _kind(profiler_op: str) -> str:
    if profiler_op.replace("::", ".") in KINDS["matmul"]:
        return "matmul"
    if "convolution" in profiler_op:  # the profiler's own time also sits in mkldnn_convolution, _convolution, ...
        return "convolution"
    return "other"


def time_breakdown(t: Trainer, steps: int, peak: float) -> dict:
    """Self time and FLOP rate of the step's matmuls, convolutions and the rest, from one profiled run
    of `steps` steps (the profiler slows small ops most, so "other" reads high), and the ceiling."""
    with FlopCounterMode(display=False) as counter:
        t.step(1)
    flops = {k: 0 for k in ("matmul", "convolution", "other")}
    for op, n in counter.get_flop_counts()["Global"].items():
        flops[next((k for k, ops in KINDS.items() if str(op) in ops), "other")] += n
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t.step(steps)
    seconds = {k: 0.0 for k in flops}
    for e in prof.key_averages():
        seconds[_kind(e.key)] += e.self_cpu_time_total / 1e6 / steps
    total_s = sum(seconds.values())
    out = {k: {"ms_per_step": round(seconds[k] * 1e3, 2), "time_share": round(seconds[k] / total_s, 3),
               "gflop_per_step": round(flops[k] / 1e9, 3),
               "gflops": round(flops[k] / seconds[k] / 1e9, 1) if flops[k] and seconds[k] else None} for k in flops}
    flop_s = seconds["matmul"] + seconds["convolution"]
    out["ceiling_share_of_peak"] = round(sum(flops.values()) / flop_s / peak, 3)
    return out


def step_rate(cfg: TrainConfig, data, labels, seconds: float) -> tuple[float, int, Trainer]:
    """(steps/s over `seconds` of training after a warm-up, FLOPs of one step, the trainer)."""
    t = Trainer(cfg, data, labels=labels if cfg.num_classes else None)
    t.step(5)
    flops = step_flops(t)
    t.elapsed, n0 = 0.0, t.iteration
    t.run(seconds=seconds, chunk=5)
    return (t.iteration - n0) / t.elapsed, flops, t


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=registry.DEFAULT_MODEL)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--profile-steps", type=int, default=100)
    args = ap.parse_args(argv)
    data = mnist_tensor("train")
    labels = torch.tensor(load_mnist("train")[1]).long()
    peak, dtype, n = measured_peak()
    out = {"device": str(describe(get_device())), "threads": torch.get_num_threads(), "model": args.model,
           "matmul_peak_gflops": round(peak / 1e9, 1), "matmul_peak_dtype": dtype, "matmul_peak_n": n, "runs": {}}
    print(f"{dtype} matmul peak (best of {', '.join(f'{k}^3' for k in PEAK_SIZES)}: {n}^3): {peak / 1e9:.1f} GFLOP/s")
    for kind, overrides in (("preset", {}), ("fp32", {"bf16": False})):
        rate, flops, t = step_rate(TrainConfig.preset(args.model, **overrides), data, labels, args.seconds)
        if kind == "preset":
            preset_trainer = t
        share = rate * flops / peak
        out["runs"][kind] = {"steps_per_s": round(rate, 1), "gflop_per_step": round(flops / 1e9, 3),
                             "gflops": round(rate * flops / 1e9, 1), "share_of_peak": round(share, 3)}
        print(f"{args.model} {kind:6s} {rate:6.1f} steps/s x {flops / 1e9:.3f} GFLOP = {rate * flops / 1e9:6.1f} GFLOP/s "
              f"= {share:.1%} of the {dtype} peak", flush=True)
    runs = out["runs"]
    out["ratio_preset_over_fp32"] = round(runs["preset"]["steps_per_s"] / runs["fp32"]["steps_per_s"], 2)
    out["pass"] = runs["preset"]["share_of_peak"] >= TARGET
    print(f"preset / fp32: {out['ratio_preset_over_fp32']}x   target {TARGET:.0%} of peak: {'met' if out['pass'] else 'not met'}")
    if args.profile_steps:
        out["preset_time"] = where = time_breakdown(preset_trainer, args.profile_steps, peak)
        print(f"where the preset's step goes ({args.profile_steps} profiled steps):")
        for k in ("matmul", "convolution", "other"):
            w = where[k]
            rate = f"{w['gflops']:6.1f} GFLOP/s" if w["gflops"] is not None else "   -"
            print(f"  {k:12s} {w['ms_per_step']:6.2f} ms/step ({w['time_share']:.0%})  {w['gflop_per_step']:.3f} GFLOP  {rate}")
        print(f"  ceiling (nothing but the matmuls and convolutions took time): {where['ceiling_share_of_peak']:.1%} of the peak")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
