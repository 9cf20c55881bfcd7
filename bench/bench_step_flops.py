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
took no time at all. The split is the profiler's: on a 2-core AMD EPYC it put some ops in the step at 1.5-10x the
time hooks on the same modules measure without it (docs/benchmarks.md), so read its parts as upper bounds; the
step's own speed is timed without the profiler. A ceiling under the target says that trimming overhead cannot reach it; the
FLOP-doing ops themselves would have to run faster.

And how much faster they could run at these shapes (on by default; `--no-gemm-ceiling` skips it): every matmul
of the step, and every convolution (forward, and each gradient its backward computes) as the matmul of the same
FLOPs that im2col lowers it to, each timed alone as a plain contiguous matmul in the step's dtype. Their sum is a
step whose convolutions cost no im2col copies and ran as fast as this CPU multiplies matrices of their shapes: if
even that is under the target, no engine work on the step reaches it; only wider layers or larger batches (other
shapes) would.
"""
import argparse
import json
import time
from collections import Counter

import torch
from torch.profiler import ProfilerActivity, profile
from torch.utils._python_dispatch import TorchDispatchMode
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


def gemm_time(m: int, k: int, n: int, dtype: torch.dtype, seconds: float) -> float:
    """Best seconds of a contiguous (m x k) @ (k x n) matmul in `dtype`: repeated calls for `seconds` after a warm-up."""
    a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
    a @ b
    best, stop = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < stop:
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return best


def matmul_peak(n: int = 4096, seconds: float = 3.0, dtype: torch.dtype | None = None) -> float:
    """FLOP/s of an n x n x n matmul on this CPU in `dtype` (peak_dtype()): the best of repeated calls after a warm-up."""
    return 2 * n ** 3 / gemm_time(n, n, n, dtype or peak_dtype(), seconds)


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


def _conv_lowering(x_shape, w_shape, out_shape, transposed: bool, groups: int):
    """(s, c_small, k_big): batch x positions of the side with fewer positions, its channels, and the other side's
    channels x kernel positions: a convolution's output and its input patches; a transposed one's input and its
    output patches."""
    if groups != 1:
        raise ValueError("grouped convolutions are not lowered here")
    kk = w_shape[2] * w_shape[3]
    small = x_shape if transposed else out_shape
    s = small[0] * small[2] * small[3]
    c_small, c_big = (w_shape[0], w_shape[1])  # conv weight (out, in, ...), transposed weight (in, out, ...)
    return s, c_small, c_big * kk


# im2col's matmuls, as (m, k, n) of the lowering above: the small side's channels from the patches ("down"), the
# patches from the small side's channels ("up", col2im after), the weight's gradient (patches x small side)
def _down(s, c, kb): return (s, kb, c)
def _up(s, c, kb): return (s, c, kb)
def _weight(s, c, kb): return (c, s, kb)


class GemmRecorder(TorchDispatchMode):
    """Records the matmuls (m, k, n) a piece of code runs, convolutions lowered as im2col would."""

    def __init__(self):
        super().__init__()
        self.gemms: Counter = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = func.overloadpacket.__name__
        if name == "mm":
            self.gemms[(args[0].shape[0], args[0].shape[1], args[1].shape[1])] += 1
        elif name == "addmm":
            self.gemms[(args[1].shape[0], args[1].shape[1], args[2].shape[1])] += 1
        elif name == "bmm":
            self.gemms[tuple(args[0].shape[1:]) + (args[1].shape[2],)] += args[0].shape[0]
        elif name == "convolution":
            x, w, transposed, groups = args[0], args[1], args[6], args[8]
            low = _conv_lowering(x.shape, w.shape, out.shape, transposed, groups)
            self.gemms[(_up if transposed else _down)(*low)] += 1
        elif name == "convolution_backward":
            grad_out, x, w, transposed, groups, mask = args[0], args[1], args[2], args[7], args[9], args[10]
            low = _conv_lowering(x.shape, w.shape, grad_out.shape, transposed, groups)
            if mask[0]:
                self.gemms[(_down if transposed else _up)(*low)] += 1
            if mask[1]:
                self.gemms[_weight(*low)] += 1
        return out


def gemm_ceiling(t: Trainer, peak: float, seconds_each: float = 0.1) -> dict:
    """The step as plain matmuls of its own shapes (module docstring): its share of the peak, and the shapes."""
    with GemmRecorder() as rec:
        t.step(1)
    dtype = torch.bfloat16 if t.bf16 else torch.float32
    rows, total_s, total_flops = [], 0.0, 0
    for (m, k, n), count in rec.gemms.items():
        sec = gemm_time(m, k, n, dtype, seconds_each)
        flops = 2 * m * k * n
        total_s, total_flops = total_s + count * sec, total_flops + count * flops
        rows.append({"m": m, "k": k, "n": n, "count": count, "gflops": round(flops / sec / 1e9, 1),
                     "share_of_peak": round(flops / sec / peak, 3)})
    rows.sort(key=lambda r: -2 * r["m"] * r["k"] * r["n"] * r["count"])
    return {"gflop_per_step": round(total_flops / 1e9, 3), "ms_per_step": round(total_s * 1e3, 2),
            "share_of_peak": round(total_flops / total_s / peak, 3), "gemms": rows}


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
    ap.add_argument("--no-gemm-ceiling", dest="gemm_ceiling", action="store_false",
                    help="skip timing the step's matmul shapes alone")
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
    if args.gemm_ceiling:
        out["gemm_ceiling"] = g = gemm_ceiling(preset_trainer, peak)
        print(f"the step as plain matmuls of its own shapes (convolutions lowered as im2col, no copies): "
              f"{g['ms_per_step']:.2f} ms/step for {g['gflop_per_step']:.3f} GFLOP = "
              f"{g['share_of_peak']:.1%} of the peak")
        for r in g["gemms"][:8]:
            print(f"  {r['m']:6d} x {r['k']:5d} x {r['n']:5d}  x{r['count']}  {r['gflops']:6.1f} GFLOP/s "
                  f"({r['share_of_peak']:.0%})")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
