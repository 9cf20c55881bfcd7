"""bench/bench_adam.py compares what it says: the Trainer's Adam (fused on the CPU) against PyTorch's default."""
import importlib.util
from pathlib import Path

import torch

spec = importlib.util.spec_from_file_location("bench_adam", Path(__file__).resolve().parents[1] / "bench" / "bench_adam.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def small():
    torch.manual_seed(0)
    return torch.rand(256, 1, 28, 28) * 2 - 1, torch.arange(256) % 10


def test_the_baseline_is_the_default_adam_and_the_other_the_trainers_fused_one():
    data, labels = small()
    base, ours = bench.trainer("cdcgan", False, data, labels), bench.trainer("cdcgan", True, data, labels)
    assert not base.opt_g.defaults["fused"] and not base.opt_d.defaults["fused"]
    assert ours.opt_g.defaults["fused"] and ours.opt_d.defaults["fused"]
    # the same settings otherwise: only the implementation differs
    for a, b in ((base.opt_g, ours.opt_g), (base.opt_d, ours.opt_d)):
        assert (a.defaults["lr"], a.defaults["betas"]) == (b.defaults["lr"], b.defaults["betas"])
    cfg = base.cfg  # G's rate and D's where they belong (the preset's differ)
    assert (base.opt_g.defaults["lr"], base.opt_d.defaults["lr"]) == (cfg.lr_g, cfg.lr_d) and cfg.lr_g != cfg.lr_d


def test_compare_reports_every_round():
    data, labels = small()
    r = bench.compare("mlp", rounds=3, seconds=0.02, data=data, labels=labels)
    assert r["rounds"] == 3 and 0 <= r["fused_won"] <= 3
    assert r["ratio_range"][0] <= r["ratio"] <= r["ratio_range"][1]
    assert r["default_steps_per_s"] > 0 and r["fused_steps_per_s"] > 0
