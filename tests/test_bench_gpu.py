"""bench/bench_gpu.py keeps working where no GPU is lent: its no-GPU answer, and a dry run on the CPU."""

import pytest
import torch

from gan_devkit.bench_scripts import load

bench_gpu = load("bench_gpu")


def test_without_a_gpu_it_says_so():
    if torch.cuda.is_available() or (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        pytest.skip("this machine has a GPU: the real bench would run")
    assert bench_gpu.main([])["gpu"] is None


def test_dry_run_on_the_cpu_measures_both_sides():
    r = bench_gpu.main(["--gpu", "cpu", "--seconds", "0.5", "--size", "64", "--evals", "3", "--adain-size", "96"])
    for side in ("cpu", "accelerated"):
        m = r[side]
        assert m["train_steps_per_s"] > 0 and m["gatys_s"] > 0 and m["adain_s"] > 0
        assert m["gatys_evals"] == 3
    # the same device twice: about 1. A 0.5 s window on a shared 2-core machine swings a few-fold
    # (measured up to 7x right after the browser suite); a side measured on the wrong device or in
    # the wrong unit is off by orders of magnitude
    assert 0.1 < r["speedup_train"] < 10


def test_the_step_profile_runs_on_the_cpu_and_counts_no_kernels_there():
    """bench_gpu_step.py is written for a GPU, and keeps working on the CPU: both runs timed, a profiled step
    whose host ops are the step's own (convolutions of the default model), and no device time or launches."""
    r = load("bench_gpu_step").main(["--device", "cpu", "--seconds", "0.5", "--profile-steps", "3"])
    assert r["runs"]["preset"]["steps_per_s"] > 0 and r["runs"]["fp32"]["steps_per_s"] > 0
    assert r["runs"]["preset"]["ms_per_step"] == pytest.approx(1e3 / r["runs"]["preset"]["steps_per_s"], rel=0.01)
    p = r["profile"]
    assert p["wall_ms_per_step"] > 0 and p["device_busy_share"] is None
    assert p["kernel_ms_per_step"] == 0 and p["launches_per_step"] == 0
    ops = {o["op"] for o in p["top_host_ops"]}
    assert any("convolution" in op for op in ops) and all(op.startswith("aten::") for op in ops)
    assert 0.1 < r["ratio_preset_over_fp32"] < 10  # the same step twice where the CPU has no native bf16
