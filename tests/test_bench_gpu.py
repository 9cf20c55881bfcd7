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
