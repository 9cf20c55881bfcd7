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


def test_the_gemm_lowering_keeps_every_flop_of_the_step_and_the_ceiling_times_each_shape():
    """Every convolution and matmul of one step, as the recorder lowers them, adds up to the FLOPs the counter counts
    (a swapped k and n, a missed gradient, or a transposed convolution lowered as a plain one would not)."""
    torch.manual_seed(0)
    data = torch.rand(256, 1, 28, 28) * 2 - 1
    t = Trainer(TrainConfig.preset("cdcgan"), data, labels=torch.arange(256) % 10)
    t.step(2)
    flops = bench.step_flops(t)
    with bench.GemmRecorder() as rec:
        t.step(1)
    assert sum(2 * m * k * n * c for (m, k, n), c in rec.gemms.items()) == flops
    peak = bench.matmul_peak(n=256, seconds=0.05)
    g = bench.gemm_ceiling(t, peak, seconds_each=0.005)
    assert g["gflop_per_step"] == round(flops / 1e9, 3)
    assert 0 < g["share_of_peak"] and sum(r["count"] for r in g["gemms"]) == sum(rec.gemms.values())


def test_a_convolution_and_its_transpose_lower_to_the_mirrored_matmuls():
    # a 4x4 stride-2 convolution from 24 channels at 14x14 to 48 at 7x7, batch 64; its transpose goes back
    conv = bench._conv_lowering((64, 24, 14, 14), (48, 24, 4, 4), (64, 48, 7, 7), transposed=False, groups=1)
    tconv = bench._conv_lowering((64, 48, 7, 7), (48, 24, 4, 4), (64, 24, 14, 14), transposed=True, groups=1)
    assert conv == tconv == (64 * 49, 48, 24 * 16)
    assert bench._down(*conv) == (3136, 384, 48) and bench._up(*conv) == (3136, 48, 384)
    assert bench._weight(*conv) == (48, 3136, 384)


def test_the_recorder_lowers_each_pass_of_a_convolution_and_of_its_transpose():
    """Forward, input gradient and weight gradient each land on their own matmul: a convolution's forward makes the
    small side from patches, a transposed one's makes patches from the small side; no input gradient for a leaf."""
    down = torch.nn.Conv2d(24, 48, 4, 2, 1, bias=False)
    up = torch.nn.ConvTranspose2d(48, 24, 4, 2, 1, bias=False)
    s = 8 * 7 * 7
    patches_to_small, small_to_patches, weight = (s, 384, 48), (s, 48, 384), (48, s, 384)

    def record(fn):
        with bench.GemmRecorder() as rec:
            fn()
        return dict(rec.gemms)

    x, z = torch.randn(8, 24, 14, 14), torch.randn(8, 48, 7, 7)
    with torch.no_grad():
        assert record(lambda: down(x)) == {patches_to_small: 1}
        assert record(lambda: up(z)) == {small_to_patches: 1}
    # backward of a leaf input: the weight's gradient only; of an input that asks for one: the mirrored matmul too
    assert record(lambda: down(x).sum().backward()) == {patches_to_small: 1, weight: 1}
    assert record(lambda: down(x.requires_grad_()).sum().backward()) == {patches_to_small: 1, weight: 1,
                                                                         small_to_patches: 1}
    assert record(lambda: up(z.requires_grad_()).sum().backward()) == {small_to_patches: 1, weight: 1,
                                                                       patches_to_small: 1}
    # a batched matmul is its batch's matmuls
    assert record(lambda: torch.randn(5, 3, 4) @ torch.randn(5, 4, 7)) == {(3, 4, 7): 5}
