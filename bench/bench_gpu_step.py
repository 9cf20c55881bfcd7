"""Where the default model's training step goes on a GPU: arithmetic, or launching it (docs/benchmarks.md, "GPU").

    python bench/bench_gpu_step.py [--model cdcgan] [--seconds 5] [--profile-steps 50] [--device cuda]

On the first lent H200 the default's step took 13.4 ms, about what 16 CPU threads take: its kernels are small, so
the GPU most likely waits for Python to launch them. This measures it, for the next GPU session to act on:
(1) steps/s of the preset and, as the baseline in the same run, of the same model in fp32 (the textbook's
precision), each over `--seconds` of training after a warm-up; (2) one profiled run of `--profile-steps` preset
steps (torch.profiler): per step, the wall time, the time the device spent in kernels, kernel launches, host-device
syncs and copies, and the host ops that took the most time. A busy share far under 1 says the step is launch-bound:
CUDA graphs, torch.compile or fewer, larger ops would pay; near 1, only faster kernels would.
Runs on the CPU too (GAN_DEVICE or --device), where there are no kernels to count: the tests use that. Prints a
table and one JSON line.
"""
import argparse
import json
import time

import torch
from torch.profiler import ProfilerActivity, profile

from gan_core import registry
from gan_core.data import load_mnist, mnist_tensor
from gan_core.device import describe, get_device
from gan_core.training import TrainConfig, Trainer

from bench_gpu import sync  # bench/ is the script's folder: run as python bench/bench_gpu_step.py


def steps_per_second(cfg: TrainConfig, data, labels, device, seconds: float) -> tuple[float, Trainer]:
    """Steps/s of training wall time after 10 warm-up steps (the first kernels' compilation and caches)."""
    t = Trainer(cfg, data, device=device, labels=labels if cfg.num_classes else None)
    t.step(10)
    sync(device)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        t.step(5)
        n += 5
    sync(device)
    return n / (time.perf_counter() - t0), t


def _count(averages, *names) -> int:
    return sum(e.count for e in averages if any(n in e.key for n in names))


def profile_steps(t: Trainer, steps: int) -> dict:
    """One profiled run of `steps` steps: per-step wall and kernel time, launches, syncs and copies, top host ops."""
    device = t.device
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    sync(device)
    with profile(activities=activities) as prof:
        t0 = time.perf_counter()
        t.step(steps)
        sync(device)
        wall = (time.perf_counter() - t0) / steps
    averages = prof.key_averages()
    kernel_s = sum(getattr(e, "self_device_time_total", 0) for e in averages
                   if getattr(e, "device_type", None) == torch.autograd.DeviceType.CUDA) / 1e6 / steps
    host = sorted((e for e in averages if e.key.startswith("aten::")), key=lambda e: e.self_cpu_time_total, reverse=True)
    return {"wall_ms_per_step": round(wall * 1e3, 3), "kernel_ms_per_step": round(kernel_s * 1e3, 3),
            "device_busy_share": round(kernel_s / wall, 3) if device.type == "cuda" else None,
            "launches_per_step": round(_count(averages, "LaunchKernel") / steps, 1),
            "syncs_per_step": round(_count(averages, "Synchronize") / steps, 1),
            "copies_per_step": round(_count(averages, "Memcpy") / steps, 1),
            "top_host_ops": [{"op": e.key, "calls_per_step": round(e.count / steps, 1),
                              "ms_per_step": round(e.self_cpu_time_total / 1e3 / steps, 3)} for e in host[:10]]}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=registry.DEFAULT_MODEL)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--profile-steps", type=int, default=50)
    ap.add_argument("--device", default=None, help="cuda / cpu (default: gan_core's choice, GAN_DEVICE)")
    args = ap.parse_args(argv)
    device = get_device(args.device)
    data = mnist_tensor("train")
    labels = torch.tensor(load_mnist("train")[1]).long()
    out = {"bench": "gpu_step", "device": str(describe(device)), "model": args.model, "runs": {}}
    preset = None
    for kind, overrides in (("preset", {}), ("fp32", {"bf16": False})):
        rate, t = steps_per_second(TrainConfig.preset(args.model, **overrides), data, labels, device, args.seconds)
        preset = preset or t
        out["runs"][kind] = {"steps_per_s": round(rate, 1), "ms_per_step": round(1e3 / rate, 2)}
        print(f"{args.model} {kind:6s} {rate:7.1f} steps/s ({1e3 / rate:.2f} ms a step) on {out['device']}", flush=True)
    out["ratio_preset_over_fp32"] = round(out["runs"]["preset"]["steps_per_s"] / out["runs"]["fp32"]["steps_per_s"], 2)
    print(f"preset / fp32: {out['ratio_preset_over_fp32']}x")
    p = out["profile"] = profile_steps(preset, args.profile_steps)
    busy = f", the device busy {p['device_busy_share']:.0%} of it" if p["device_busy_share"] is not None else ""
    print(f"a profiled preset step ({args.profile_steps} steps): {p['wall_ms_per_step']} ms, kernels {p['kernel_ms_per_step']} ms"
          f"{busy}; {p['launches_per_step']} launches, {p['syncs_per_step']} syncs, {p['copies_per_step']} copies a step")
    for op in p["top_host_ops"]:
        print(f"  {op['op']:40s} {op['calls_per_step']:6.1f} calls  {op['ms_per_step']:7.3f} ms a step")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
