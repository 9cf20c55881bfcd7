"""bench/bench_step_flops.py's time breakdown: every FLOP counted lands in matmuls or convolutions, the
shares add up, and the ceiling (the rest costing nothing) is above what the step measured."""
import torch

from gan_core.training import TrainConfig, Trainer
from gan_devkit.bench_scripts import load

bench = load("bench_step_flops")


def test_the_breakdown_sorts_every_flop_and_its_ceiling_lies_above_the_whole_step():
    torch.manual_seed(0)
    data = torch.rand(256, 1, 28, 28) * 2 - 1
    labels = torch.arange(256) % 10
    t = Trainer(TrainConfig.preset("cdcgan"), data, labels=labels)
    t.step(2)
    flops = bench.step_flops(t)
    peak = 1e12
    where = bench.time_breakdown(t, 3, peak)
    kinds = ("matmul", "convolution", "other")
    # the default model's step has dense layers (matmuls) and convolutions; nothing else counts FLOPs
    assert where["matmul"]["gflop_per_step"] > 0 and where["convolution"]["gflop_per_step"] > 0
    assert where["other"]["gflop_per_step"] == 0 and where["other"]["gflops"] is None
    assert abs(sum(where[k]["gflop_per_step"] for k in kinds) - flops / 1e9) < 2e-3
    assert abs(sum(where[k]["time_share"] for k in kinds) - 1) < 2e-3
    step_s = sum(where[k]["ms_per_step"] for k in kinds) / 1e3
    # the ceiling drops only the time of "other": above the whole step's rate, below infinity
    assert flops / step_s / peak < where["ceiling_share_of_peak"] < flops / (where["matmul"]["ms_per_step"] / 1e3) / peak


def test_the_peak_is_measured_in_the_dtype_the_presets_train_in(monkeypatch):
    """bf16 where the CPU runs it natively; fp32 where it would be emulated (an AVX2 CPU: the preset trains
    in fp32 there, and an emulated 4096^3 bf16 matmul ran single-threaded for over 15 minutes)."""
    monkeypatch.setattr(bench, "fast_dtype", lambda device: None)
    assert bench.peak_dtype() == torch.float32
    seen = []
    monkeypatch.setattr(bench.torch, "randn", lambda *size, dtype: seen.append(dtype) or torch.ones(*size, dtype=dtype))
    assert bench.matmul_peak(n=32, seconds=0.01) > 0 and set(seen) == {torch.float32}
    monkeypatch.setattr(bench, "fast_dtype", lambda device: torch.bfloat16)
    assert bench.peak_dtype() == torch.bfloat16
    assert bench.matmul_peak(n=32, seconds=0.01) > 0 and seen[-1] == torch.bfloat16


def test_the_peak_is_the_best_of_its_sizes(monkeypatch):
    """A peak is a maximum: on a shared machine the largest matmul may run slowest (its operands far beyond
    the cache), so every size is timed and the best one counts, with its size."""
    rates = {1024: 145e9, 2048: 150e9, 4096: 87e9}
    monkeypatch.setattr(bench, "matmul_peak", lambda n, seconds: rates[n])
    assert bench.measured_peak()[0::2] == (150e9, 2048)
    assert bench.measured_peak(sizes=(1024, 4096))[0::2] == (145e9, 1024)
